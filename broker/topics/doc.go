// Package topics owns a broker's topic catalogue: topic names and their
// validity rules, per-topic configuration (Kafka's topic config names, with
// broker-level defaults), and the durable form of the catalogue on the
// broker's disk.
//
// Ownership and imports: it imports the standard library and package host
// (for the Disk it persists to). It knows nothing of the wire protocol or of
// partition logs.
//
// # Persisted form
//
// The catalogue is one file, topics.json, replaced atomically: the new
// content is written to topics.json.tmp, synced, renamed over topics.json
// and the directory is synced. A reader therefore sees either the old or
// the new catalogue, never a mix. The JSON holds a format version, and the
// topics sorted by name with their id, partition count and config
// overrides (a JSON object: keys are written sorted, so the bytes are a
// pure function of the catalogue).
//
// Invariants:
//   - every Topic in a State has a valid name (ValidName), a non-zero id,
//     1 <= Partitions, and overrides that ParseConfig accepts;
//   - a State's topics are sorted by name with no duplicate names or ids;
//   - Decode(Encode(s)) == s, and Decode rejects anything else with
//     ErrCorruptState.
package topics
