package admin

import (
	"context"
	"errors"
	"testing"
)

// A bad spec is refused before any request: the zero client is never used.
func TestCreateTopicRefusesBadSpecs(t *testing.T) {
	for _, s := range []TopicSpec{{Partitions: 1}, {Name: "t", Partitions: 0}, {Name: "t", Partitions: -2}} {
		if err := (&Client{}).CreateTopic(context.Background(), s); !errors.Is(err, ErrBadSpec) {
			t.Errorf("%+v: %v, want ErrBadSpec", s, err)
		}
	}
	for _, s := range []TopicSpec{{Name: "t", Partitions: 1}, {Name: "t", Partitions: -1}} {
		if err := s.Validate(); err != nil {
			t.Errorf("%+v: %v", s, err)
		}
	}
}
