// A Go peer for the interop tests: publishes events and payments as Go programs write them,
// hostile variants of them, and checks what nats-pubsub publishes as a strict Go consumer
// (typed structs, unknown fields disallowed). See tests/peers/README.md.
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
)

const eventsSubject = "events.test"

// Upstream shape: no status, no description.
type upstreamData struct {
	EventType   string `json:"event_type"`
	Value       int    `json:"value"`
	RandomField string `json:"random_field"`
}

// The seed README's shape: status and description, no random_field.
type seedData struct {
	EventType   string `json:"event_type"`
	Value       int    `json:"value"`
	Status      string `json:"status"`
	Description string `json:"description"`
}

type fullData struct {
	EventType   string `json:"event_type"`
	Value       int    `json:"value"`
	RandomField string `json:"random_field"`
	Status      string `json:"status"`
	Description string `json:"description"`
}

type event struct {
	MessageID string      `json:"message_id"`
	Timestamp string      `json:"timestamp"`
	Source    string      `json:"source"`
	Sequence  interface{} `json:"sequence"`
	Data      interface{} `json:"data"`
}

type transaction struct {
	TransactionID     string      `json:"transaction_id"`
	Timestamp         string      `json:"timestamp"`
	Source            string      `json:"source"`
	CardType          string      `json:"card_type"`
	LastFour          string      `json:"last_four"`
	Amount            interface{} `json:"amount"`
	Currency          string      `json:"currency"`
	Status            string      `json:"status"`
	DeclineReason     string      `json:"decline_reason,omitempty"`
	MerchantID        string      `json:"merchant_id"`
	AuthorizationCode string      `json:"authorization_code,omitempty"`
	DeclineCode       string      `json:"decline_code,omitempty"`
}

type published struct {
	Case    string `json:"case"`
	Subject string `json:"subject"`
	Payload string `json:"payload"`
}

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "go peer: "+format+"\n", args...)
	os.Exit(2)
}

func printJSON(value interface{}) {
	line, err := json.Marshal(value)
	if err != nil {
		fail("cannot encode output: %v", err)
	}
	fmt.Println(string(line))
}

func send(nc *nats.Conn, name, subject string, payload []byte) {
	if err := nc.Publish(subject, payload); err != nil {
		fail("publish %s: %v", name, err)
	}
	printJSON(published{Case: name, Subject: subject, Payload: string(payload)})
}

func encode(value interface{}) []byte {
	payload, err := json.Marshal(value)
	if err != nil {
		fail("cannot encode message: %v", err)
	}
	return payload
}

// Each language's timestamp form, written with Go layouts.
func stamps(now time.Time) map[string]string {
	utc := now.UTC()
	return map[string]string{
		"upstream-csharp":     utc.Format("2006-01-02T15:04:05.0000000Z"),
		"upstream-go":         utc.Format(time.RFC3339Nano),
		"upstream-js":         utc.Format("2006-01-02T15:04:05.000Z"),
		"upstream-python":     utc.Format("2006-01-02T15:04:05.000000-07:00"),
		"python-whole-second": utc.Truncate(time.Second).Format("2006-01-02T15:04:05-07:00"),
		"offset":              now.In(time.FixedZone("IST", 5*3600+1800)).Format(time.RFC3339Nano),
	}
}

func publishValid(nc *nats.Conn, source string) {
	order := []string{
		"upstream-csharp", "upstream-go", "upstream-js", "upstream-python",
		"python-whole-second", "offset", "seed", "ours",
	}
	forms := stamps(time.Now())
	forms["seed"] = forms["upstream-python"]
	forms["ours"] = time.Now().UTC().Format("2006-01-02T15:04:05.000000Z")
	for i, name := range order {
		seq := i + 1
		var data interface{} = upstreamData{"user.login", 523, "alpha"}
		switch name {
		case "seed":
			data = seedData{"order.created", 73, "success", fmt.Sprintf("Order created event #%d", seq)}
		case "ours":
			data = fullData{"user.logout", 1000, "delta", "success", fmt.Sprintf("User logout event #%d", seq)}
		}
		message := event{fmt.Sprintf("%s-%d", source, seq), forms[name], source, seq, data}
		send(nc, name, eventsSubject, encode(message))
	}
	stamp := time.Now().UTC().Format(time.RFC3339Nano)
	accepted := transaction{
		TransactionID: "TXN-" + source + "-1", Timestamp: stamp, Source: source,
		CardType: "Visa", LastFour: "0042", Amount: 49.99, Currency: "USD", Status: "accepted",
		MerchantID: "MERCH-1234", AuthorizationCode: "AUTH-0A1B2C3D",
	}
	send(nc, "payment-accepted", "payments.credit_card.accepted", encode(accepted))
	declined := transaction{
		TransactionID: "TXN-" + source + "-2", Timestamp: stamp, Source: source,
		CardType: "Amex", LastFour: "9001", Amount: 499.99, Currency: "USD", Status: "declined",
		DeclineReason: "card_expired", MerchantID: "MERCH-4321", DeclineCode: "ERR-054",
	}
	send(nc, "payment-declined", "payments.credit_card.declined", encode(declined))
}

func publishHostile(nc *nats.Conn, source string) {
	bad := source + "-hostile"
	now := time.Now().UTC()
	good := now.Format(time.RFC3339Nano)
	seq := 0
	next := func(stamp string, data interface{}) event {
		seq++
		return event{fmt.Sprintf("%s-%d", bad, seq), stamp, bad, seq, data}
	}
	upstream := upstreamData{"user.login", 5, "beta"}
	send(nc, "value-string", eventsSubject, encode(next(good, map[string]interface{}{
		"event_type": "user.login", "value": "523"})))
	textSeq := next(good, upstream)
	textSeq.Sequence = "not-a-number"
	send(nc, "sequence-string", eventsSubject, encode(textSeq))
	send(nc, "event-type-number", eventsSubject, encode(next(good, map[string]interface{}{
		"event_type": 5, "value": 5})))
	send(nc, "status-number", eventsSubject, encode(next(good, map[string]interface{}{
		"event_type": "user.login", "value": 5, "status": 1})))
	send(nc, "missing-value", eventsSubject, encode(next(good, map[string]interface{}{
		"event_type": "user.login"})))
	send(nc, "bare-date", eventsSubject, encode(next(now.Format("2006-01-02"), upstream)))
	send(nc, "no-zone", eventsSubject, encode(next(now.Format("2006-01-02T15:04:05.000"), upstream)))
	send(nc, "impossible-date", eventsSubject, encode(next("2025-02-30T12:00:00Z", upstream)))
	mismatch := next(good, upstream)
	mismatch.MessageID = fmt.Sprintf("%s-%d", bad, seq+1)
	send(nc, "id-mismatch", eventsSubject, encode(mismatch))
	long := next(good, upstream)
	long.Source = strings.Repeat("g", 300)
	long.MessageID = fmt.Sprintf("%s-%d", long.Source, seq)
	send(nc, "source-too-long", eventsSubject, encode(long))
	send(nc, "not-json", eventsSubject, []byte(`{"message_id": `))
	send(nc, "payment-amount-string", "payments.credit_card.accepted", encode(transaction{
		TransactionID: "TXN-" + bad + "-1", Timestamp: good, Source: bad, CardType: "Visa",
		LastFour: "0042", Amount: "49.99", Currency: "USD", Status: "accepted",
		MerchantID: "MERCH-1234", AuthorizationCode: "AUTH-0A1B2C3D",
	}))
	after := event{source + "-1", time.Now().UTC().Format(time.RFC3339Nano), source, 1, upstream}
	send(nc, "after", eventsSubject, encode(after))
}

// What nats-pubsub publish sends: every field present, no other field.
type strictData struct {
	EventType   *string `json:"event_type"`
	Value       *int64  `json:"value"`
	RandomField *string `json:"random_field"`
	Status      *string `json:"status"`
	Description *string `json:"description"`
}

type strictEvent struct {
	MessageID *string     `json:"message_id"`
	Timestamp *string     `json:"timestamp"`
	Source    *string     `json:"source"`
	Sequence  *int64      `json:"sequence"`
	Data      *strictData `json:"data"`
}

type strictAccepted struct {
	TransactionID     *string  `json:"transaction_id"`
	Timestamp         *string  `json:"timestamp"`
	Source            *string  `json:"source"`
	CardType          *string  `json:"card_type"`
	LastFour          *string  `json:"last_four"`
	Amount            *float64 `json:"amount"`
	Currency          *string  `json:"currency"`
	Status            *string  `json:"status"`
	MerchantID        *string  `json:"merchant_id"`
	AuthorizationCode *string  `json:"authorization_code"`
}

type strictDeclined struct {
	TransactionID *string  `json:"transaction_id"`
	Timestamp     *string  `json:"timestamp"`
	Source        *string  `json:"source"`
	CardType      *string  `json:"card_type"`
	LastFour      *string  `json:"last_four"`
	Amount        *float64 `json:"amount"`
	Currency      *string  `json:"currency"`
	Status        *string  `json:"status"`
	DeclineReason *string  `json:"decline_reason"`
	MerchantID    *string  `json:"merchant_id"`
	DeclineCode   *string  `json:"decline_code"`
}

var (
	ourStamp     = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$`)
	lastFour     = regexp.MustCompile(`^\d{4}$`)
	merchant     = regexp.MustCompile(`^MERCH-\d{4}$`)
	authCode     = regexp.MustCompile(`^AUTH-[0-9A-F]{8}$`)
	eventWords   = map[string]string{"user.login": "User login", "user.logout": "User logout", "order.created": "Order created", "payment.processed": "Payment processed"}
	randomFields = map[string]bool{"alpha": true, "beta": true, "gamma": true, "delta": true}
	cardTypes    = map[string]bool{"Visa": true, "Mastercard": true, "Amex": true, "Discover": true}
	amounts      = map[float64]bool{29.99: true, 49.99: true, 99.99: true, 149.99: true, 249.99: true, 499.99: true}
	declineCodes = map[string]string{"insufficient_funds": "ERR-051", "card_expired": "ERR-054", "invalid_cvv": "ERR-082", "suspected_fraud": "ERR-059", "card_limit_exceeded": "ERR-061", "issuer_declined": "ERR-005"}
)

func decodeStrict(data []byte, into interface{}) error {
	decoder := json.NewDecoder(bytes.NewReader(data))
	decoder.DisallowUnknownFields()
	if err := decoder.Decode(into); err != nil {
		return err
	}
	if decoder.More() {
		return fmt.Errorf("data after the JSON object")
	}
	return nil
}

// missing names a field that is absent (pointer fields given as name -> present).
func missing(fields map[string]bool) error {
	for name, present := range fields {
		if !present {
			return fmt.Errorf("field %s is missing", name)
		}
	}
	return nil
}

func checkStamp(stamp string) error {
	if !ourStamp.MatchString(stamp) {
		return fmt.Errorf("timestamp %q is not UTC with microseconds and Z", stamp)
	}
	when, err := time.Parse(time.RFC3339Nano, stamp)
	if err != nil {
		return fmt.Errorf("timestamp %q: %v", stamp, err)
	}
	if age := time.Since(when); age < -time.Minute || age > time.Minute {
		return fmt.Errorf("timestamp %q is %v away from now", stamp, age)
	}
	return nil
}

type checker struct {
	lastSequence map[string]int64
	lastTxn      map[string]int64
	accepted     int
	declined     int
}

func (c *checker) event(msg *nats.Msg) error {
	var e strictEvent
	if err := decodeStrict(msg.Data, &e); err != nil {
		return err
	}
	if err := missing(map[string]bool{"message_id": e.MessageID != nil, "timestamp": e.Timestamp != nil,
		"source": e.Source != nil, "sequence": e.Sequence != nil, "data": e.Data != nil}); err != nil {
		return err
	}
	d := e.Data
	if err := missing(map[string]bool{"data.event_type": d.EventType != nil, "data.value": d.Value != nil,
		"data.random_field": d.RandomField != nil, "data.status": d.Status != nil,
		"data.description": d.Description != nil}); err != nil {
		return err
	}
	if *e.Source == "" {
		return fmt.Errorf("source is empty")
	}
	if *e.Sequence < 1 {
		return fmt.Errorf("sequence %d is not positive", *e.Sequence)
	}
	if last, seen := c.lastSequence[*e.Source]; seen && *e.Sequence != last+1 {
		return fmt.Errorf("sequence %d follows %d", *e.Sequence, last)
	} else if !seen && *e.Sequence != 1 {
		return fmt.Errorf("first sequence of %s is %d", *e.Source, *e.Sequence)
	}
	c.lastSequence[*e.Source] = *e.Sequence
	if want := *e.Source + "-" + strconv.FormatInt(*e.Sequence, 10); *e.MessageID != want {
		return fmt.Errorf("message_id %q is not %q", *e.MessageID, want)
	}
	if header := msg.Header.Get("Nats-Msg-Id"); header != *e.MessageID {
		return fmt.Errorf("Nats-Msg-Id %q is not the message_id", header)
	}
	if err := checkStamp(*e.Timestamp); err != nil {
		return err
	}
	words, known := eventWords[*d.EventType]
	if !known {
		return fmt.Errorf("event_type %q is not a default type", *d.EventType)
	}
	if *d.Value < 1 || *d.Value > 1000 {
		return fmt.Errorf("value %d is not in 1..1000", *d.Value)
	}
	if !randomFields[*d.RandomField] {
		return fmt.Errorf("random_field %q is unknown", *d.RandomField)
	}
	if *d.Status != "success" {
		return fmt.Errorf("status %q is not success", *d.Status)
	}
	if want := fmt.Sprintf("%s event #%d", words, *e.Sequence); *d.Description != want {
		return fmt.Errorf("description %q is not %q", *d.Description, want)
	}
	return nil
}

func (c *checker) payment(msg *nats.Msg) error {
	var id, stamp, source, card, four, currency, status, merchantID *string
	var amount *float64
	present := map[string]bool{}
	switch msg.Subject {
	case "payments.credit_card.accepted":
		var t strictAccepted
		if err := decodeStrict(msg.Data, &t); err != nil {
			return err
		}
		id, stamp, source, card, four, amount, currency, status, merchantID =
			t.TransactionID, t.Timestamp, t.Source, t.CardType, t.LastFour, t.Amount, t.Currency, t.Status, t.MerchantID
		present["authorization_code"] = t.AuthorizationCode != nil
		if t.AuthorizationCode != nil && !authCode.MatchString(*t.AuthorizationCode) {
			return fmt.Errorf("authorization_code %q", *t.AuthorizationCode)
		}
		c.accepted++
	case "payments.credit_card.declined":
		var t strictDeclined
		if err := decodeStrict(msg.Data, &t); err != nil {
			return err
		}
		id, stamp, source, card, four, amount, currency, status, merchantID =
			t.TransactionID, t.Timestamp, t.Source, t.CardType, t.LastFour, t.Amount, t.Currency, t.Status, t.MerchantID
		present["decline_reason"] = t.DeclineReason != nil
		present["decline_code"] = t.DeclineCode != nil
		if t.DeclineReason != nil && t.DeclineCode != nil {
			if code, known := declineCodes[*t.DeclineReason]; !known || code != *t.DeclineCode {
				return fmt.Errorf("decline_reason %q with decline_code %q", *t.DeclineReason, *t.DeclineCode)
			}
		}
		c.declined++
	default:
		return fmt.Errorf("unexpected subject %s", msg.Subject)
	}
	for name, value := range map[string]*string{"transaction_id": id, "timestamp": stamp, "source": source,
		"card_type": card, "last_four": four, "currency": currency, "status": status, "merchant_id": merchantID} {
		present[name] = value != nil
	}
	present["amount"] = amount != nil
	if err := missing(present); err != nil {
		return err
	}
	prefix := "TXN-" + *source + "-"
	number, err := strconv.ParseInt(strings.TrimPrefix(*id, prefix), 10, 64)
	if !strings.HasPrefix(*id, prefix) || err != nil || number < 1 {
		return fmt.Errorf("transaction_id %q is not TXN-source-n", *id)
	}
	if number != c.lastTxn[*source]+1 {
		return fmt.Errorf("transaction %d follows %d", number, c.lastTxn[*source])
	}
	c.lastTxn[*source] = number
	if header := msg.Header.Get("Nats-Msg-Id"); header != *id {
		return fmt.Errorf("Nats-Msg-Id %q is not the transaction_id", header)
	}
	if err := checkStamp(*stamp); err != nil {
		return err
	}
	if !cardTypes[*card] || !lastFour.MatchString(*four) || !amounts[*amount] || *currency != "USD" ||
		!merchant.MatchString(*merchantID) {
		return fmt.Errorf("card_type %q, last_four %q, amount %v, currency %q or merchant_id %q out of range",
			*card, *four, *amount, *currency, *merchantID)
	}
	if *status != strings.TrimPrefix(msg.Subject, "payments.credit_card.") {
		return fmt.Errorf("status %q on %s", *status, msg.Subject)
	}
	return nil
}

func subscribe(nc *nats.Conn, events, payments int) {
	messages := make(chan *nats.Msg, 4096)
	for _, subject := range []string{"events.>", "payments.>"} {
		if _, err := nc.ChanSubscribe(subject, messages); err != nil {
			fail("subscribe %s: %v", subject, err)
		}
	}
	if err := nc.Flush(); err != nil {
		fail("flush: %v", err)
	}
	printJSON(map[string]bool{"ready": true})
	c := checker{lastSequence: map[string]int64{}, lastTxn: map[string]int64{}}
	gotEvents, gotPayments, errors := 0, 0, 0
	deadline := time.After(60 * time.Second)
	for gotEvents < events || gotPayments < payments {
		select {
		case msg := <-messages:
			var err error
			if strings.HasPrefix(msg.Subject, "payments.") {
				gotPayments++
				err = c.payment(msg)
			} else {
				gotEvents++
				err = c.event(msg)
			}
			if err != nil {
				errors++
				printJSON(map[string]string{"error": err.Error(), "subject": msg.Subject, "payload": string(msg.Data)})
			}
		case <-deadline:
			printJSON(map[string]interface{}{"timeout": true, "events": gotEvents, "payments": gotPayments})
			os.Exit(3)
		}
	}
	printJSON(map[string]interface{}{"done": true, "events": gotEvents, "accepted": c.accepted,
		"declined": c.declined, "errors": errors})
	if errors > 0 {
		os.Exit(1)
	}
}

func main() {
	if len(os.Args) < 4 {
		fail("usage: peer publish|hostile URL SOURCE | peer subscribe URL EVENTS PAYMENTS")
	}
	nc, err := nats.Connect(os.Args[2], nats.Name("go-peer"))
	if err != nil {
		fail("connect: %v", err)
	}
	defer nc.Close()
	switch os.Args[1] {
	case "publish":
		publishValid(nc, os.Args[3])
	case "hostile":
		publishHostile(nc, os.Args[3])
	case "subscribe":
		if len(os.Args) != 5 {
			fail("usage: peer subscribe URL EVENTS PAYMENTS")
		}
		events, err1 := strconv.Atoi(os.Args[3])
		payments, err2 := strconv.Atoi(os.Args[4])
		if err1 != nil || err2 != nil {
			fail("EVENTS and PAYMENTS must be integers")
		}
		subscribe(nc, events, payments)
		return
	default:
		fail("unknown command %q", os.Args[1])
	}
	if err := nc.Flush(); err != nil {
		fail("flush: %v", err)
	}
}
