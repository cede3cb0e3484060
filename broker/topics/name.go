package topics

import (
	"errors"
	"fmt"
)

// MaxNameLength is Kafka's limit on topic name length (249: a partition
// directory "name-partition" plus Kafka's deletion suffix must fit in 255).
const MaxNameLength = 249

// ErrInvalidName classifies a topic name Kafka would reject
// (INVALID_TOPIC_EXCEPTION).
var ErrInvalidName = errors.New("topics: invalid topic name")

// ValidName checks name against Kafka's rules: 1 to 249 characters from
// [a-zA-Z0-9._-], and not "." or "..". Because the name becomes a directory
// name, these rules are also what keeps it inside the data directory.
func ValidName(name string) error {
	switch {
	case name == "":
		return fmt.Errorf("%w: empty", ErrInvalidName)
	case name == "." || name == "..":
		return fmt.Errorf("%w: %q", ErrInvalidName, name)
	case len(name) > MaxNameLength:
		return fmt.Errorf("%w: %d characters, limit %d", ErrInvalidName, len(name), MaxNameLength)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			c == '.' || c == '_' || c == '-'
		if !ok {
			return fmt.Errorf("%w: %q has character %q", ErrInvalidName, name, c)
		}
	}
	return nil
}
