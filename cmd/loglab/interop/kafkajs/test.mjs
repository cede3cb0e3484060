// kafkajs against a loglab broker. Driven by cmd/loglab/interop (TestKafkajs):
//   node test.mjs BROKER TOPIC PARTITIONS N
// Creates TOPIC with the admin client, produces N keyed records with a header
// per codec kafkajs supports natively (none, gzip; snappy/lz4/zstd need
// third-party codec packages), then reads every partition back from offset 0.
// The read-back uses kafkajs's own Fetch request and decoder through its
// internal cluster (the "raw" path), partition by partition; its group
// consumer is exercised by group.mjs.
// Prints one JSON object on stdout: {produced, read, offsets, topics}.
import { Kafka, CompressionTypes, logLevel } from 'kafkajs'

const [broker, topic, partitionsArg, nArg] = process.argv.slice(2)
const partitions = Number(partitionsArg)
const n = Number(nArg)
const deadline = setTimeout(() => {
  console.error('kafkajs: no result within 60s')
  process.exit(3)
}, 60000)

const kafka = new Kafka({
  clientId: 'interop-kafkajs',
  brokers: [broker],
  logLevel: logLevel.ERROR,
  connectionTimeout: 5000,
  requestTimeout: 10000,
  retry: { retries: 3 },
})

const codecs = { none: CompressionTypes.None, gzip: CompressionTypes.GZIP }

const admin = kafka.admin()
await admin.connect()
if (!(await admin.createTopics({ topics: [{ topic, numPartitions: partitions }], waitForLeaders: true }))) {
  throw new Error(`createTopics(${topic}) reported that the topic already existed`)
}
const topics = await admin.listTopics()

const producer = kafka.producer({ allowAutoTopicCreation: false })
await producer.connect()
const produced = []
for (const [codec, compression] of Object.entries(codecs)) {
  const messages = []
  for (let i = 0; i < n; i++) {
    const key = `kafkajs-${codec}-k${i}`
    const value = `kafkajs-${codec}-value-${i}-${'x'.repeat((i % 7) * 10)}`
    messages.push({ key, value, partition: i % partitions, headers: { codec } })
  }
  // One send per partition: the RecordMetadata gives that batch's base
  // offset, so every record's offset is known.
  for (let p = 0; p < partitions; p++) {
    const batch = messages.filter(m => m.partition === p)
    const [meta] = await producer.send({ topic, acks: -1, compression, messages: batch })
    if (meta.errorCode !== 0) throw new Error(`produce ${codec} p${p}: error ${meta.errorCode}`)
    batch.forEach((m, j) =>
      produced.push({ Partition: p, Offset: Number(meta.baseOffset) + j, Key: m.key, Value: m.value, Header: codec })
    )
  }
}
await producer.disconnect()
const offsets = await admin.fetchTopicOffsets(topic)
await admin.disconnect()

// Raw read-back: kafkajs's Cluster (private API of 2.2.4) and Broker.fetch.
const createCluster = Object.getOwnPropertySymbols(kafka).find(s => s.toString().includes('createCluster'))
const cluster = kafka[createCluster]({ metadataMaxAge: 300000, allowAutoTopicCreation: false })
await cluster.connect()
await cluster.addTargetTopic(topic)
const read = {}
for (let p = 0; p < partitions; p++) {
  const want = produced.filter(r => r.Partition === p).length
  const got = []
  const leaders = cluster.findLeaderForPartitions(topic, [p])
  const nodeId = Object.keys(leaders)[0]
  const leader = await cluster.findBroker({ nodeId })
  while (got.length < want) {
    const fetchOffset = String(got.length)
    const resp = await leader.fetch({
      replicaId: -1,
      isolationLevel: 0,
      maxWaitTime: 200,
      topics: [{ topic, partitions: [{ partition: p, fetchOffset, maxBytes: 1 << 20 }] }],
    })
    const part = resp.responses[0].partitions[0]
    if (part.errorCode !== 0) throw new Error(`fetch p${p}: error ${part.errorCode}`)
    for (const m of part.messages) {
      if (Number(m.offset) < got.length) continue // a batch may start before the fetch offset
      got.push({
        Partition: p,
        Offset: Number(m.offset),
        Key: m.key === null ? null : m.key.toString(),
        Value: m.value.toString(),
        Header: m.headers && m.headers.codec ? m.headers.codec.toString() : '',
      })
    }
  }
  read[p] = got
}
await cluster.disconnect()
clearTimeout(deadline)
console.log(JSON.stringify({ produced, read, offsets, topics }))
