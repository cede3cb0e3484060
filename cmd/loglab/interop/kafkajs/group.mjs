// A kafkajs group consumer against a loglab broker. Driven by
// cmd/loglab/interop (TestGroupKafkajs):
//   node group.mjs BROKER TOPIC GROUP N
// Joins GROUP on TOPIC (from the committed offsets, earliest without),
// reads exactly N records, commits them and leaves the group.
// Prints one JSON object on stdout: {read: [{partition, offset, value}]}.
import { Kafka, logLevel } from 'kafkajs'

const [broker, topic, groupId, nArg] = process.argv.slice(2)
const n = Number(nArg)
const deadline = setTimeout(() => {
  console.error(`kafkajs: read ${read.length} of ${n} records within 60s`)
  process.exit(3)
}, 60000)

const kafka = new Kafka({
  clientId: 'interop-kafkajs-group',
  brokers: [broker],
  logLevel: logLevel.ERROR,
  connectionTimeout: 5000,
  requestTimeout: 10000,
  retry: { retries: 5 },
})

const read = []
const consumer = kafka.consumer({ groupId, sessionTimeout: 10000, heartbeatInterval: 1000, maxWaitTimeInMs: 200 })
await consumer.connect()
await consumer.subscribe({ topic, fromBeginning: true })
let finish
const done = new Promise((resolve) => { finish = resolve })
await consumer.run({
  autoCommit: false,
  eachMessage: async ({ partition, message }) => {
    if (read.length >= n) return
    read.push({ partition, offset: message.offset, value: message.value.toString() })
    await consumer.commitOffsets([{ topic, partition, offset: (BigInt(message.offset) + 1n).toString() }])
    if (read.length === n) finish()
  },
})
await done
await consumer.disconnect()
clearTimeout(deadline)
console.log(JSON.stringify({ read }))
