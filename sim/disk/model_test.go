package disk

import (
	"bytes"
	"maps"
	"path"
	"slices"
	"testing"

	"pgregory.net/rapid"
)

// The model: files by identity with their cached content and their last
// completed synced content; a cached and a durable namespace mapping paths to
// identities. A sync's snapshot is the whole cached content at the call and it
// becomes the model's durable content when its done reports success.

type mFile struct{ cache, durable []byte }

type mWrite struct {
	id   int
	off  int64
	data []byte
}

type model struct {
	files     map[int]*mFile
	nextID    int
	cached    map[string]int
	durable   map[string]int
	lastWrite *mWrite
}

var (
	modelNames = []string{"a", "b", "c", "d/x", "d/y"}
	modelDirs  = []string{".", "d"}
	allModes   = []CrashMode{LoseUnsynced, KeepRandomPages, TornLastSector, KeepPageCache}
)

func childrenOf(ns map[string]int, dir string) map[string]int {
	out := map[string]int{}
	for name, id := range ns {
		if path.Dir(name) == dir {
			out[name] = id
		}
	}
	return out
}

func namesOf(ns map[string]int) []string {
	return slices.Sorted(maps.Keys(ns))
}

func padPage(b []byte, p int64) []byte {
	out := make([]byte, PageSize)
	lo := p * PageSize
	if lo < int64(len(b)) {
		copy(out, b[lo:])
	}
	return out
}

func TestPropertyCrashAgainstModel(t *testing.T) {
	for _, mode := range allModes {
		t.Run(mode.String(), func(t *testing.T) { rapid.Check(t, modelProperty(t, mode)) })
	}
}

// modelProperty runs random operations against the disk and the model,
// checking them step by step, then crashes in mode and checks the outcome.
func modelProperty(t *testing.T, mode CrashMode) func(*rapid.T) {
	return func(rt *rapid.T) {
		e := newFakeEnv(t, rapid.Uint64().Draw(rt, "seed"))
		e.log = false
		d := New(e, "n", Config{SyncJitter: rapid.Int64Range(-1, 1_000_000).Draw(rt, "jitter")})
		if err := d.MkdirAll("d"); err != nil {
			rt.Fatal(err)
		}
		d.SyncDir(".", func(err error) {})
		e.run()
		m := &model{files: map[int]*mFile{}, cached: map[string]int{}, durable: map[string]int{}}

		open := func(name string) *file {
			f, err := d.OpenFile(name, false)
			if err != nil {
				rt.Fatalf("open %s: %v", name, err)
			}
			return f.(*file)
		}
		createFile := func(rt *rapid.T) {
			name := rapid.SampledFrom(modelNames).Draw(rt, "name")
			f, err := d.OpenFile(name, true)
			if err != nil {
				rt.Fatal(err)
			}
			f.Close()
			if _, ok := m.cached[name]; !ok {
				m.nextID++
				m.files[m.nextID] = &mFile{cache: []byte{}, durable: []byte{}}
				m.cached[name] = m.nextID
			}
		}
		existing := func(rt *rapid.T) (string, int, bool) {
			if len(m.cached) == 0 {
				createFile(rt)
			}
			name := rapid.SampledFrom(namesOf(m.cached)).Draw(rt, "existing")
			return name, m.cached[name], true
		}

		actions := map[string]func(*rapid.T){
			"create": createFile,
			"write": func(rt *rapid.T) {
				name, id, ok := existing(rt)
				if !ok {
					return
				}
				off := rapid.Int64Range(0, 3*PageSize).Draw(rt, "off")
				n := rapid.SampledFrom([]int{700, 1, 5000, 512, 4096, 1000}).Draw(rt, "len")
				data := rapid.SliceOfN(rapid.Byte(), n, n).Draw(rt, "data")
				// rapid favours zero bytes, which hide stale or lost
				// bytes: shift them by a non-zero per-write tag.
				tag := byte(rapid.IntRange(1, 255).Draw(rt, "tag"))
				for i := range data {
					if data[i] += tag; data[i] == 0 {
						data[i] = tag
					}
				}
				f := open(name)
				if n, err := f.WriteAt(data, off); err != nil || n != len(data) {
					rt.Fatalf("write: %d, %v", n, err)
				}
				f.Close()
				mf := m.files[id]
				mf.cache = resizeZero(mf.cache, max(int64(len(mf.cache)), off+int64(len(data))))
				copy(mf.cache[off:], data)
				m.lastWrite = &mWrite{id: id, off: off, data: slices.Clone(data)}
			},
			"truncate": func(rt *rapid.T) {
				name, id, ok := existing(rt)
				if !ok {
					return
				}
				size := rapid.SampledFrom([]int64{100, PageSize + 100, 0, 1, PageSize - 1, PageSize, 2 * PageSize, 3*PageSize + 100}).Draw(rt, "size")
				f := open(name)
				if err := f.Truncate(size); err != nil {
					rt.Fatal(err)
				}
				f.Close()
				m.files[id].cache = resizeZero(m.files[id].cache, size)
				if m.lastWrite != nil && m.lastWrite.id == id {
					m.lastWrite = nil
				}
			},
			"sync": func(rt *rapid.T) {
				name, id, ok := existing(rt)
				if !ok {
					return
				}
				snap := slices.Clone(m.files[id].cache)
				f := open(name)
				f.Sync(func(err error) {
					if err != nil {
						rt.Fatalf("sync %s: %v", name, err)
					}
					m.files[id].durable = snap
				})
				f.Close() // pending syncs still complete
			},
			"syncdir": func(rt *rapid.T) {
				dir := rapid.SampledFrom(modelDirs).Draw(rt, "dir")
				snap := childrenOf(m.cached, dir)
				d.SyncDir(dir, func(err error) {
					if err != nil {
						rt.Fatalf("syncdir %s: %v", dir, err)
					}
					for name := range childrenOf(m.durable, dir) {
						delete(m.durable, name)
					}
					maps.Copy(m.durable, snap)
				})
			},
			"rename": func(rt *rapid.T) {
				from, id, ok := existing(rt)
				if !ok {
					return
				}
				to := rapid.SampledFrom(modelNames).Draw(rt, "to")
				if err := d.Rename(from, to); err != nil {
					rt.Fatal(err)
				}
				delete(m.cached, from)
				m.cached[to] = id
			},
			"remove": func(rt *rapid.T) {
				name, _, ok := existing(rt)
				if !ok {
					return
				}
				if err := d.Remove(name); err != nil {
					rt.Fatal(err)
				}
				delete(m.cached, name)
			},
			"advance": func(rt *rapid.T) {
				// Flushes take 2ms to 2.5ms: most steps must let some finish
				// (rapid's bias picks the first entries most).
				dt := rapid.SampledFrom([]int64{2_600_000, 1_000_000, 500_000, 0, 2_000_000, 7_000_000}).Draw(rt, "dt")
				e.runUntil(e.now + dt)
			},
		}
		check := func(rt *rapid.T) {
			if got, want := d.Files(), namesOf(m.cached); !slices.Equal(got, want) {
				rt.Fatalf("cached namespace %v, model %v", got, want)
			}
			if got, want := d.DurableFiles(), namesOf(m.durable); !slices.Equal(got, want) {
				rt.Fatalf("durable namespace %v, model %v", got, want)
			}
			for name, id := range m.cached {
				if got, _ := d.CachedContent(name); !bytes.Equal(got, m.files[id].cache) {
					rt.Fatalf("%s: cached content differs from the model", name)
				}
				// The media of every file, dir-synced or not.
				if ino, _ := d.lookupFile(name, false); !bytes.Equal(ino.durable, m.files[id].durable) {
					rt.Fatalf("%s: media differs from the model's synced content", name)
				}
			}
			for name, id := range m.durable {
				if got, _ := d.DurableContent(name); !bytes.Equal(got, m.files[id].durable) {
					rt.Fatalf("%s: durable content differs from the model", name)
				}
			}
		}
		// Weighted choice: writes and syncs dominate, so page states and
		// flushes interleave densely. rapid draws small integers far more
		// often than others, so the first entries get that bias too.
		weights := []struct {
			name string
			n    int
		}{{"write", 20}, {"sync", 15}, {"advance", 15}, {"truncate", 12}, {"syncdir", 12}, {"create", 12}, {"rename", 8}, {"remove", 6}}
		steps := 10 + rapid.IntRange(0, 150).Draw(rt, "steps")
		for range steps {
			w := rapid.IntRange(0, 99).Draw(rt, "op")
			for _, c := range weights {
				if w < c.n {
					actions[c.name](rt)
					break
				}
				w -= c.n
			}
			check(rt)
		}

		e.crashNode("n")
		d.Crash(mode)
		e.run() // nothing issued before the crash may complete now

		if mode == KeepPageCache {
			if got, want := d.Files(), namesOf(m.cached); !slices.Equal(got, want) {
				rt.Fatalf("after %s: namespace %v, want the cached %v", mode, got, want)
			}
			for name, id := range m.cached {
				if got, _ := d.CachedContent(name); !bytes.Equal(got, m.files[id].cache) {
					rt.Fatalf("after %s: %s lost cached bytes", mode, name)
				}
			}
			return
		}
		if got, want := d.Files(), namesOf(m.durable); !slices.Equal(got, want) {
			rt.Fatalf("after %s: namespace %v, want the durable %v", mode, got, want)
		}
		for _, name := range namesOf(m.durable) {
			mf := m.files[m.durable[name]]
			got, _ := d.CachedContent(name)
			if media, _ := d.DurableContent(name); !bytes.Equal(media, got) {
				rt.Fatalf("after %s: %s: media and cache differ after a power loss", mode, name)
			}
			switch mode {
			case LoseUnsynced:
				if !bytes.Equal(got, mf.durable) {
					rt.Fatalf("%s: %s = %d bytes, want the %d synced bytes", mode, name, len(got), len(mf.durable))
				}
			case KeepRandomPages:
				checkKeptPages(rt, name, got, mf)
			case TornLastSector:
				checkTorn(rt, name, got, mf, m.durable[name], m.lastWrite)
			}
		}
	}
}

func checkKeptPages(rt *rapid.T, name string, got []byte, mf *mFile) {
	if len(got) < len(mf.durable) || len(got) > max(len(mf.durable), len(mf.cache)) {
		rt.Fatalf("%s: size %d outside [durable %d, max(durable, cache %d)]", name, len(got), len(mf.durable), len(mf.cache))
	}
	zero := make([]byte, PageSize)
	for p := int64(0); p < pageCount(int64(len(got))); p++ {
		g := padPage(got, p)
		if !bytes.Equal(g, padPage(mf.durable, p)) && !bytes.Equal(g, padPage(mf.cache, p)) && !bytes.Equal(g, zero) {
			rt.Fatalf("%s: page %d is neither durable, cached nor zeros", name, p)
		}
	}
}

func checkTorn(rt *rapid.T, name string, got []byte, mf *mFile, id int, lw *mWrite) {
	if lw == nil || lw.id != id {
		if !bytes.Equal(got, mf.durable) {
			rt.Fatalf("%s: not the last write's file, yet differs from durable", name)
		}
		return
	}
	n := int64(len(lw.data))
	full := max(lw.off, (lw.off+n-1)/SectorSize*SectorSize) - lw.off
	for landed := full; landed < n; landed++ {
		want := slices.Clone(mf.durable)
		if landed > 0 {
			want = resizeZero(want, max(int64(len(want)), lw.off+landed))
			copy(want[lw.off:], lw.data[:landed])
		}
		if bytes.Equal(got, want) {
			return
		}
	}
	rt.Fatalf("%s: not durable + a torn prefix of the last write (off %d len %d)", name, lw.off, n)
}
