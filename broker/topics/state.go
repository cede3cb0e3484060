package topics

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
)

// ErrCorruptState: the persisted catalogue cannot be decoded or breaks an
// invariant. The broker refuses to start rather than guess.
var ErrCorruptState = errors.New("topics: corrupt topic catalogue")

// ID is a topic's UUID (Kafka topic ids, KIP-516). The zero ID means none.
type ID [16]byte

func (id ID) String() string { return hex.EncodeToString(id[:]) }

// Topic is one topic's durable description.
type Topic struct {
	Name       string
	ID         ID
	Partitions int32
	// Overrides are the topic-level config values (Kafka names).
	Overrides map[string]string
}

// State is the whole catalogue, sorted by name.
type State struct {
	Topics []Topic
}

const stateVersion = 1

type jsonTopic struct {
	Name       string            `json:"name"`
	ID         string            `json:"id"`
	Partitions int32             `json:"partitions"`
	Configs    map[string]string `json:"configs,omitempty"`
}

type jsonState struct {
	Version int         `json:"version"`
	Topics  []jsonTopic `json:"topics"`
}

// Encode returns the persisted form of s (topics sorted by name).
func Encode(s State) []byte {
	ts := append([]Topic(nil), s.Topics...)
	sort.Slice(ts, func(i, j int) bool { return ts[i].Name < ts[j].Name })
	js := jsonState{Version: stateVersion, Topics: make([]jsonTopic, 0, len(ts))}
	for _, t := range ts {
		js.Topics = append(js.Topics, jsonTopic{Name: t.Name, ID: t.ID.String(), Partitions: t.Partitions, Configs: t.Overrides})
	}
	b, err := json.MarshalIndent(js, "", "  ")
	if err != nil {
		panic(fmt.Sprintf("topics: encoding a catalogue cannot fail: %v", err))
	}
	return append(b, '\n')
}

// Decode parses and checks a persisted catalogue.
func Decode(b []byte) (State, error) {
	var js jsonState
	if err := json.Unmarshal(b, &js); err != nil {
		return State{}, fmt.Errorf("%w: %v", ErrCorruptState, err)
	}
	if js.Version != stateVersion {
		return State{}, fmt.Errorf("%w: version %d, want %d", ErrCorruptState, js.Version, stateVersion)
	}
	s := State{Topics: make([]Topic, 0, len(js.Topics))}
	ids := make(map[ID]bool, len(js.Topics))
	for i, jt := range js.Topics {
		t := Topic{Name: jt.Name, Partitions: jt.Partitions, Overrides: jt.Configs}
		raw, err := hex.DecodeString(jt.ID)
		if err != nil || len(raw) != len(t.ID) {
			return State{}, fmt.Errorf("%w: topic %q has id %q", ErrCorruptState, jt.Name, jt.ID)
		}
		copy(t.ID[:], raw)
		if err := ValidName(t.Name); err != nil {
			return State{}, fmt.Errorf("%w: %v", ErrCorruptState, err)
		}
		if i > 0 && js.Topics[i-1].Name >= t.Name {
			return State{}, fmt.Errorf("%w: topics not sorted at %q", ErrCorruptState, t.Name)
		}
		if t.ID == (ID{}) || ids[t.ID] {
			return State{}, fmt.Errorf("%w: topic %q has a zero or duplicate id", ErrCorruptState, t.Name)
		}
		ids[t.ID] = true
		if t.Partitions < 1 {
			return State{}, fmt.Errorf("%w: topic %q has %d partitions", ErrCorruptState, t.Name, t.Partitions)
		}
		if _, err := ParseConfig(DefaultConfig(), t.Overrides); err != nil {
			return State{}, fmt.Errorf("%w: topic %q: %v", ErrCorruptState, t.Name, err)
		}
		s.Topics = append(s.Topics, t)
	}
	return s, nil
}
