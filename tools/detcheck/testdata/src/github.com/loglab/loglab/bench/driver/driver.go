package driver

import (
	"net"
	"time"
)

// Dial opens a real connection.
func Dial(addr string) (net.Conn, error) {
	go func() {}()
	return net.DialTimeout("tcp", addr, time.Until(time.Now().Add(time.Second)))
}
