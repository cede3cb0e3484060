package group

import "testing"

// PartitionFor must place groups where Kafka does: Java's String.hashCode
// (UTF-16 code units), then Utils.abs (n & 0x7fffffff), then modulo.
func TestPartitionForMatchesKafka(t *testing.T) {
	for _, c := range []struct {
		group string
		hash  int32 // Java's "...".hashCode()
	}{
		{"hello", 99162322},
		{"abc", 96354},
		{"polygenelubricants", -2147483648}, // Integer.MIN_VALUE: abs would overflow
		{"", 0},
		{"é€𝄞", int32(int64(0xe9)*31*31*31 + int64(0x20ac)*31*31 + int64(0xd834)*31 + int64(0xdd1e))},
	} {
		for _, n := range []int32{1, 10, 50} {
			want := (c.hash & 0x7fffffff) % n
			if got := PartitionFor(c.group, n); got != want {
				t.Errorf("PartitionFor(%q, %d) = %d, want %d", c.group, n, got, want)
			}
		}
	}
	if PartitionFor("hello", 50) != 99162322%50 {
		t.Fatal("hello")
	}
}
