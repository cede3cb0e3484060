package console

import (
	"io"
	"strconv"
	"strings"

	"github.com/loglab/loglab/client"
)

// DefaultFormat is the format that prints the value, preceded by the
// partition, offset and key when asked, tab-separated, one per line.
func DefaultFormat(part, offset, key bool) string {
	var fields []string
	if part {
		fields = append(fields, "%p")
	}
	if offset {
		fields = append(fields, "%o")
	}
	if key {
		fields = append(fields, "%k")
	}
	return strings.Join(append(fields, "%v"), "\t") + "\n"
}

// Format expands a kcat-style format for one record: %t topic, %p
// partition, %o offset, %k key, %v (or %s) value, %T timestamp (ms), %h
// headers (k=v,...), %K key length, %S value length (-1 when null), %% a
// percent sign, \n, \t and \\. Anything else is copied as it is.
func Format(w io.Writer, format string, r client.Record) {
	var b []byte
	for i := 0; i < len(format); i++ {
		c := format[i]
		if (c != '%' && c != '\\') || i+1 == len(format) {
			b = append(b, c)
			continue
		}
		i++
		if c == '\\' {
			b = appendEscape(b, format[i])
			continue
		}
		b = appendField(b, format[i], r)
	}
	w.Write(b)
}

func appendEscape(b []byte, c byte) []byte {
	switch c {
	case 'n':
		return append(b, '\n')
	case 't':
		return append(b, '\t')
	case '\\':
		return append(b, '\\')
	}
	return append(b, '\\', c)
}

func appendField(b []byte, c byte, r client.Record) []byte {
	switch c {
	case 't':
		return append(b, r.Topic...)
	case 'p':
		return strconv.AppendInt(b, int64(r.Partition), 10)
	case 'o':
		return strconv.AppendInt(b, r.Offset, 10)
	case 'k':
		return append(b, r.Key...)
	case 'v', 's': // %s is kcat's spelling
		return append(b, r.Value...)
	case 'T':
		return strconv.AppendInt(b, r.Timestamp, 10)
	case 'K':
		return strconv.AppendInt(b, lenOrNull(r.Key), 10)
	case 'S':
		return strconv.AppendInt(b, lenOrNull(r.Value), 10)
	case 'h':
		for j, h := range r.Headers {
			if j > 0 {
				b = append(b, ',')
			}
			b = append(b, h.Key...)
			b = append(b, '=')
			b = append(b, h.Value...)
		}
		return b
	case '%':
		return append(b, '%')
	}
	return append(b, '%', c)
}

// lenOrNull is kcat's length: -1 for a null key or value.
func lenOrNull(b []byte) int64 {
	if b == nil {
		return -1
	}
	return int64(len(b))
}
