// A JavaScript peer for the interop tests: publishes events and payments as Node.js programs
// write them, hostile variants of them, and checks what nats-pubsub publishes with explicit
// checks of every field, as a strict JavaScript consumer would. See tests/peers/README.md.
import { connect } from "nats";

const EVENTS_SUBJECT = "events.test";
const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

function fail(text) {
  process.stderr.write(`js peer: ${text}\n`);
  process.exit(2);
}

function print(value) {
  process.stdout.write(`${JSON.stringify(value)}\n`);
}

function send(nc, name, subject, text) {
  nc.publish(subject, encoder.encode(text));
  print({ case: name, subject, payload: text });
}

// Each language's timestamp form, written from a JavaScript Date (milliseconds).
function stamps(ms) {
  const iso = new Date(ms).toISOString(); // 2025-10-09T01:15:30.123Z
  const millis = iso.slice(20, 23).replace(/0+$/, "");
  return {
    "upstream-csharp": `${iso.slice(0, 23)}0000Z`,
    "upstream-go": `${iso.slice(0, 19)}${millis ? `.${millis}` : ""}Z`,
    "upstream-js": iso,
    "upstream-python": `${iso.slice(0, 23)}000+00:00`,
    "python-whole-second": `${new Date(ms - (ms % 1000)).toISOString().slice(0, 19)}+00:00`,
    offset: `${new Date(ms + 330 * 60_000).toISOString().slice(0, 23)}+05:30`,
  };
}

function publishValid(nc, source) {
  const forms = stamps(Date.now());
  forms.seed = forms["upstream-python"];
  forms.ours = `${new Date().toISOString().slice(0, 23)}000Z`;
  const order = [
    "upstream-csharp", "upstream-go", "upstream-js", "upstream-python",
    "python-whole-second", "offset", "seed", "ours",
  ];
  order.forEach((name, index) => {
    const sequence = index + 1;
    let data = { event_type: "user.login", value: 523, random_field: "alpha" };
    if (name === "seed") {
      data = {
        event_type: "order.created", value: 73, status: "success",
        description: `Order created event #${sequence}`,
      };
    } else if (name === "ours") {
      data = {
        event_type: "user.logout", value: 1000, random_field: "delta", status: "success",
        description: `User logout event #${sequence}`,
      };
    }
    const message = {
      message_id: `${source}-${sequence}`, timestamp: forms[name], source, sequence, data,
    };
    send(nc, name, EVENTS_SUBJECT, JSON.stringify(message));
  });
  const timestamp = new Date().toISOString();
  send(nc, "payment-accepted", "payments.credit_card.accepted", JSON.stringify({
    transaction_id: `TXN-${source}-1`, timestamp, source, card_type: "Visa", last_four: "0042",
    amount: 49.99, currency: "USD", status: "accepted", merchant_id: "MERCH-1234",
    authorization_code: "AUTH-0A1B2C3D",
  }));
  send(nc, "payment-declined", "payments.credit_card.declined", JSON.stringify({
    transaction_id: `TXN-${source}-2`, timestamp, source, card_type: "Amex", last_four: "9001",
    amount: 499.99, currency: "USD", status: "declined", decline_reason: "card_expired",
    merchant_id: "MERCH-4321", decline_code: "ERR-054",
  }));
}

function publishHostile(nc, source) {
  const bad = `${source}-hostile`;
  const now = new Date().toISOString();
  let sequence = 0;
  const next = (timestamp, data) => {
    sequence += 1;
    return { message_id: `${bad}-${sequence}`, timestamp, source: bad, sequence, data };
  };
  const upstream = { event_type: "user.login", value: 5, random_field: "beta" };
  const events = [
    ["value-string", next(now, { event_type: "user.login", value: "523" })],
    ["sequence-string", { ...next(now, upstream), sequence: "not-a-number" }],
    ["event-type-number", next(now, { event_type: 5, value: 5 })],
    ["status-number", next(now, { event_type: "user.login", value: 5, status: 1 })],
    ["missing-value", next(now, { event_type: "user.login" })],
    ["bare-date", next(now.slice(0, 10), upstream)],
    ["no-zone", next(now.slice(0, 23), upstream)],
    ["impossible-date", next("2025-02-30T12:00:00Z", upstream)],
  ];
  const mismatch = next(now, upstream);
  events.push(["id-mismatch", { ...mismatch, message_id: `${bad}-${sequence + 1}` }]);
  const long = "j".repeat(300);
  const tooLong = next(now, upstream);
  events.push(["source-too-long", { ...tooLong, source: long, message_id: `${long}-${sequence}` }]);
  for (const [name, message] of events) {
    send(nc, name, EVENTS_SUBJECT, JSON.stringify(message));
  }
  send(nc, "not-json", EVENTS_SUBJECT, '{"message_id": ');
  send(nc, "payment-amount-string", "payments.credit_card.accepted", JSON.stringify({
    transaction_id: `TXN-${bad}-1`, timestamp: now, source: bad, card_type: "Visa",
    last_four: "0042", amount: "49.99", currency: "USD", status: "accepted",
    merchant_id: "MERCH-1234", authorization_code: "AUTH-0A1B2C3D",
  }));
  send(nc, "after", EVENTS_SUBJECT, JSON.stringify({
    message_id: `${source}-1`, timestamp: new Date().toISOString(), source, sequence: 1,
    data: upstream,
  }));
}

const OUR_STAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;
const EVENT_WORDS = {
  "user.login": "User login", "user.logout": "User logout",
  "order.created": "Order created", "payment.processed": "Payment processed",
};
const RANDOM_FIELDS = ["alpha", "beta", "gamma", "delta"];
const CARD_TYPES = ["Visa", "Mastercard", "Amex", "Discover"];
const AMOUNTS = [29.99, 49.99, 99.99, 149.99, 249.99, 499.99];
const DECLINE_CODES = {
  insufficient_funds: "ERR-051", card_expired: "ERR-054", invalid_cvv: "ERR-082",
  suspected_fraud: "ERR-059", card_limit_exceeded: "ERR-061", issuer_declined: "ERR-005",
};
const EVENT_KEYS = ["message_id", "timestamp", "source", "sequence", "data"];
const DATA_KEYS = ["event_type", "value", "random_field", "status", "description"];
const TXN_KEYS = [
  "transaction_id", "timestamp", "source", "card_type", "last_four", "amount", "currency",
  "status", "merchant_id",
];

class Mismatch extends Error {}

function expect(condition, text) {
  if (!condition) throw new Mismatch(text);
}

function exactKeys(object, keys, where) {
  expect(object !== null && typeof object === "object" && !Array.isArray(object),
    `${where} is not an object`);
  const extra = Object.keys(object).filter((key) => !keys.includes(key));
  const missing = keys.filter((key) => !Object.hasOwn(object, key));
  expect(extra.length === 0, `${where} has unknown fields ${extra.join(", ")}`);
  expect(missing.length === 0, `${where} is missing ${missing.join(", ")}`);
}

function isString(value) {
  return typeof value === "string";
}

function checkStamp(stamp) {
  expect(isString(stamp) && OUR_STAMP.test(stamp), `timestamp ${stamp} is not UTC µs Z`);
  const age = Date.now() - Date.parse(stamp);
  expect(Number.isFinite(age) && Math.abs(age) < 60_000, `timestamp ${stamp} is not now`);
}

class Checker {
  constructor() {
    this.lastSequence = new Map();
    this.lastTxn = new Map();
    this.accepted = 0;
    this.declined = 0;
  }

  event(msg) {
    const message = JSON.parse(decoder.decode(msg.data));
    exactKeys(message, EVENT_KEYS, "the event");
    const { message_id: id, source, sequence, data } = message;
    exactKeys(data, DATA_KEYS, "data");
    expect(isString(source) && source.length > 0, "source is not a non-empty string");
    expect(Number.isInteger(sequence) && sequence >= 1, `sequence ${sequence} is not positive`);
    const last = this.lastSequence.get(source) ?? 0;
    expect(sequence === last + 1, `sequence ${sequence} follows ${last}`);
    this.lastSequence.set(source, sequence);
    expect(isString(id) && id === `${source}-${sequence}`, `message_id ${id} is not source-seq`);
    expect(msg.headers?.get("Nats-Msg-Id") === id, "Nats-Msg-Id is not the message_id");
    checkStamp(message.timestamp);
    const words = EVENT_WORDS[data.event_type];
    expect(isString(data.event_type) && words !== undefined, `event_type ${data.event_type}`);
    expect(Number.isInteger(data.value) && data.value >= 1 && data.value <= 1000,
      `value ${data.value} is not an integer in 1..1000`);
    expect(RANDOM_FIELDS.includes(data.random_field), `random_field ${data.random_field}`);
    expect(data.status === "success", `status ${data.status}`);
    expect(data.description === `${words} event #${sequence}`,
      `description ${data.description}`);
  }

  payment(msg) {
    const txn = JSON.parse(decoder.decode(msg.data));
    const outcome = msg.subject.replace("payments.credit_card.", "");
    const own = outcome === "accepted" ? ["authorization_code"] : ["decline_reason", "decline_code"];
    expect(["accepted", "declined"].includes(outcome), `unexpected subject ${msg.subject}`);
    exactKeys(txn, [...TXN_KEYS, ...own], `the ${outcome} transaction`);
    expect(isString(txn.source) && txn.source.length > 0, "source is not a non-empty string");
    const prefix = `TXN-${txn.source}-`;
    const number = isString(txn.transaction_id) && txn.transaction_id.startsWith(prefix)
      ? Number(txn.transaction_id.slice(prefix.length)) : NaN;
    const last = this.lastTxn.get(txn.source) ?? 0;
    expect(number === last + 1, `transaction_id ${txn.transaction_id} does not follow ${last}`);
    this.lastTxn.set(txn.source, number);
    expect(msg.headers?.get("Nats-Msg-Id") === txn.transaction_id,
      "Nats-Msg-Id is not the transaction_id");
    checkStamp(txn.timestamp);
    expect(CARD_TYPES.includes(txn.card_type), `card_type ${txn.card_type}`);
    expect(isString(txn.last_four) && /^\d{4}$/.test(txn.last_four), `last_four ${txn.last_four}`);
    expect(typeof txn.amount === "number" && AMOUNTS.includes(txn.amount), `amount ${txn.amount}`);
    expect(txn.currency === "USD", `currency ${txn.currency}`);
    expect(txn.status === outcome, `status ${txn.status} on ${msg.subject}`);
    expect(isString(txn.merchant_id) && /^MERCH-\d{4}$/.test(txn.merchant_id),
      `merchant_id ${txn.merchant_id}`);
    if (outcome === "accepted") {
      expect(isString(txn.authorization_code) && /^AUTH-[0-9A-F]{8}$/.test(txn.authorization_code),
        `authorization_code ${txn.authorization_code}`);
      this.accepted += 1;
    } else {
      expect(isString(txn.decline_reason) && DECLINE_CODES[txn.decline_reason] === txn.decline_code,
        `decline_reason ${txn.decline_reason} with decline_code ${txn.decline_code}`);
      this.declined += 1;
    }
  }
}

async function subscribe(nc, events, payments) {
  const checker = new Checker();
  const got = { events: 0, payments: 0, errors: 0 };
  const timer = setTimeout(() => {
    print({ timeout: true, events: got.events, payments: got.payments });
    process.exit(3);
  }, 60_000);
  const loop = async (subject, kind, wanted) => {
    const sub = nc.subscribe(subject);
    for await (const msg of sub) {
      got[kind] += 1;
      try {
        if (kind === "events") checker.event(msg);
        else checker.payment(msg);
      } catch (error) {
        got.errors += 1;
        print({ error: String(error.message), subject: msg.subject, payload: msg.string() });
      }
      if (got[kind] >= wanted) break;
    }
  };
  const loops = [];
  if (events > 0) loops.push(loop("events.>", "events", events));
  if (payments > 0) loops.push(loop("payments.>", "payments", payments));
  await nc.flush();
  print({ ready: true });
  await Promise.all(loops);
  clearTimeout(timer);
  print({
    done: true, events: got.events, accepted: checker.accepted, declined: checker.declined,
    errors: got.errors,
  });
  return got.errors === 0 ? 0 : 1;
}

async function main() {
  const [command, url, ...rest] = process.argv.slice(2);
  if (!command || !url || rest.length === 0) {
    fail("usage: peer publish|hostile URL SOURCE | peer subscribe URL EVENTS PAYMENTS");
  }
  const nc = await connect({ servers: url, name: "js-peer" });
  let code = 0;
  if (command === "publish") publishValid(nc, rest[0]);
  else if (command === "hostile") publishHostile(nc, rest[0]);
  else if (command === "subscribe") {
    const [events, payments] = rest.map(Number);
    if (!Number.isInteger(events) || !Number.isInteger(payments)) {
      fail("EVENTS and PAYMENTS must be integers");
    }
    code = await subscribe(nc, events, payments);
  } else fail(`unknown command ${command}`);
  await nc.flush();
  await nc.close();
  process.exit(code);
}

main().catch((error) => fail(String(error)));
