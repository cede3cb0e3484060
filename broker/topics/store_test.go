package topics_test

import (
	"testing"

	"github.com/loglab/loglab/broker/internal/fakehost"
	"github.com/loglab/loglab/broker/topics"
)

func TestStoreSavesAndLoads(t *testing.T) {
	d := fakehost.NewDisk()
	h := fakehost.New("n", d, nil)
	if st, err := topics.Load(h.Disk()); err != nil || len(st.Topics) != 0 {
		t.Fatalf("fresh disk: %+v %v", st, err)
	}
	s := topics.NewStore(h.Disk())
	one := topics.State{Topics: []topics.Topic{{Name: "a", ID: topics.ID{1}, Partitions: 2}}}
	two := topics.State{Topics: append(one.Topics, topics.Topic{Name: "b", ID: topics.ID{2}, Partitions: 1})}
	var done []int
	s.Save(one, func(err error) {
		if err != nil {
			t.Error(err)
		}
		done = append(done, 1)
	})
	// Saved while the first is in flight: coalesced into the next write.
	s.Save(two, func(err error) { done = append(done, 2) })
	s.Save(two, func(err error) { done = append(done, 3) })
	if !s.Busy() {
		t.Fatal("not busy")
	}
	h.Run()
	if len(done) != 3 || done[0] != 1 || s.Busy() {
		t.Fatalf("callbacks %v busy %v", done, s.Busy())
	}
	st, err := topics.Load(h.Disk())
	if err != nil || len(st.Topics) != 2 || st.Topics[1].Name != "b" {
		t.Fatalf("loaded %+v %v", st, err)
	}
	for _, f := range d.Files() {
		if f == "topics.json.tmp" {
			t.Fatal("temporary file left behind")
		}
	}
}
