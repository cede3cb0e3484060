// Package realhost stands for the real Host: exempt by the Exempt list.
package realhost
