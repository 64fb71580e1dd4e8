/* A C peer for the interop tests: publishes events and payments as C programs write them
 * (strftime, local time with a numeric zone), hostile variants of them, and checks what
 * nats-pubsub publishes as a strict C consumer would (jansson: exact keys, JSON types).
 * See tests/peers/README.md. Build: cc peer.c -lnats -ljansson -lpthread */
#define _GNU_SOURCE
#include <errno.h>
#include <jansson.h>
#include <nats/nats.h>
#include <pthread.h>
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define EVENTS_SUBJECT "events.test"
#define MAX_SOURCES 16

static void fail(const char *format, ...) {
    va_list args;
    va_start(args, format);
    fputs("c peer: ", stderr);
    vfprintf(stderr, format, args);
    fputc('\n', stderr);
    va_end(args);
    exit(2);
}

static void print_json(json_t *value) {
    char *line = json_dumps(value, JSON_COMPACT);
    if (line == NULL) fail("cannot encode output");
    puts(line);
    fflush(stdout);
    free(line);
    json_decref(value);
}

/* Publish `text` and print {"case", "subject", "payload"}. */
static void send_text(natsConnection *conn, const char *name, const char *subject, const char *text) {
    natsStatus status = natsConnection_PublishString(conn, subject, text);
    if (status != NATS_OK) fail("publish %s: %s", name, natsStatus_GetText(status));
    print_json(json_pack("{s:s, s:s, s:s}", "case", name, "subject", subject, "payload", text));
}

/* Publish a JSON value (taking its reference). */
static void send_json(natsConnection *conn, const char *name, const char *subject, json_t *message) {
    if (message == NULL) fail("cannot build %s", name);
    char *text = json_dumps(message, JSON_COMPACT);
    if (text == NULL) fail("cannot encode %s", name);
    send_text(conn, name, subject, text);
    free(text);
    json_decref(message);
}

/* The time written in one language's form, into `out`. */
static void stamp(const struct timespec *now, const char *form, char *out, size_t size) {
    struct tm parts;
    char whole[32];
    long nanos = now->tv_nsec;
    if (strcmp(form, "offset") == 0) { /* local time with its numeric zone, as strftime has it */
        char zone[8];
        localtime_r(&now->tv_sec, &parts);
        strftime(whole, sizeof whole, "%Y-%m-%dT%H:%M:%S", &parts);
        strftime(zone, sizeof zone, "%z", &parts);
        snprintf(out, size, "%s.%06ld%s", whole, nanos / 1000, zone);
        return;
    }
    gmtime_r(&now->tv_sec, &parts);
    strftime(whole, sizeof whole, "%Y-%m-%dT%H:%M:%S", &parts);
    if (strcmp(form, "upstream-csharp") == 0) {
        snprintf(out, size, "%s.%07ldZ", whole, nanos / 100);
    } else if (strcmp(form, "upstream-go") == 0) {
        char fraction[16];
        snprintf(fraction, sizeof fraction, "%09ld", nanos);
        size_t digits = strlen(fraction);
        while (digits > 0 && fraction[digits - 1] == '0') fraction[--digits] = '\0';
        snprintf(out, size, "%s%s%sZ", whole, digits ? "." : "", fraction);
    } else if (strcmp(form, "upstream-js") == 0) {
        snprintf(out, size, "%s.%03ldZ", whole, nanos / 1000000);
    } else if (strcmp(form, "upstream-python") == 0) {
        snprintf(out, size, "%s.%06ld+00:00", whole, nanos / 1000);
    } else if (strcmp(form, "python-whole-second") == 0) {
        snprintf(out, size, "%s+00:00", whole);
    } else if (strcmp(form, "ours") == 0) {
        snprintf(out, size, "%s.%06ldZ", whole, nanos / 1000);
    } else {
        fail("unknown form %s", form);
    }
}

static json_t *event(const char *source, long long sequence, const char *timestamp, json_t *data) {
    char id[400];
    snprintf(id, sizeof id, "%s-%lld", source, sequence);
    return json_pack("{s:s, s:s, s:s, s:I, s:o}", "message_id", id, "timestamp", timestamp,
                     "source", source, "sequence", (json_int_t)sequence, "data", data);
}

static json_t *upstream_data(void) {
    return json_pack("{s:s, s:i, s:s}", "event_type", "user.login", "value", 523,
                     "random_field", "alpha");
}

static void publish_valid(natsConnection *conn, const char *source) {
    static const char *order[] = {"upstream-csharp", "upstream-go", "upstream-js",
                                  "upstream-python", "python-whole-second", "offset",
                                  "seed", "ours"};
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    for (int index = 0; index < 8; index++) {
        const char *name = order[index];
        long long sequence = index + 1;
        char timestamp[64], description[64];
        json_t *data;
        if (strcmp(name, "seed") == 0) {
            stamp(&now, "upstream-python", timestamp, sizeof timestamp);
            snprintf(description, sizeof description, "Order created event #%lld", sequence);
            data = json_pack("{s:s, s:i, s:s, s:s}", "event_type", "order.created", "value", 73,
                             "status", "success", "description", description);
        } else if (strcmp(name, "ours") == 0) {
            clock_gettime(CLOCK_REALTIME, &now);
            stamp(&now, "ours", timestamp, sizeof timestamp);
            snprintf(description, sizeof description, "User logout event #%lld", sequence);
            data = json_pack("{s:s, s:i, s:s, s:s, s:s}", "event_type", "user.logout", "value",
                             1000, "random_field", "delta", "status", "success", "description",
                             description);
        } else {
            stamp(&now, name, timestamp, sizeof timestamp);
            data = upstream_data();
        }
        send_json(conn, name, EVENTS_SUBJECT, event(source, sequence, timestamp, data));
    }
    char timestamp[64], id[300];
    clock_gettime(CLOCK_REALTIME, &now);
    stamp(&now, "offset", timestamp, sizeof timestamp);
    snprintf(id, sizeof id, "TXN-%s-1", source);
    send_json(conn, "payment-accepted", "payments.credit_card.accepted",
              json_pack("{s:s, s:s, s:s, s:s, s:s, s:f, s:s, s:s, s:s, s:s}", "transaction_id", id,
                        "timestamp", timestamp, "source", source, "card_type", "Visa",
                        "last_four", "0042", "amount", 49.99, "currency", "USD", "status",
                        "accepted", "merchant_id", "MERCH-1234", "authorization_code",
                        "AUTH-0A1B2C3D"));
    snprintf(id, sizeof id, "TXN-%s-2", source);
    send_json(conn, "payment-declined", "payments.credit_card.declined",
              json_pack("{s:s, s:s, s:s, s:s, s:s, s:f, s:s, s:s, s:s, s:s, s:s}",
                        "transaction_id", id, "timestamp", timestamp, "source", source,
                        "card_type", "Amex", "last_four", "9001", "amount", 499.99, "currency",
                        "USD", "status", "declined", "decline_reason", "card_expired",
                        "merchant_id", "MERCH-4321", "decline_code", "ERR-054"));
}

static void publish_hostile(natsConnection *conn, const char *source) {
    char bad[300], now_text[64], date[16], no_zone[32], long_source[301];
    struct timespec now;
    long long sequence = 0;
    snprintf(bad, sizeof bad, "%s-hostile", source);
    clock_gettime(CLOCK_REALTIME, &now);
    stamp(&now, "upstream-js", now_text, sizeof now_text);
    snprintf(date, sizeof date, "%.10s", now_text);
    snprintf(no_zone, sizeof no_zone, "%.23s", now_text);
    json_t *message;

    message = event(bad, ++sequence, now_text, json_pack("{s:s, s:s}", "event_type",
                                                         "user.login", "value", "523"));
    send_json(conn, "value-string", EVENTS_SUBJECT, message);
    message = event(bad, ++sequence, now_text, upstream_data());
    json_object_set_new(message, "sequence", json_string("not-a-number"));
    send_json(conn, "sequence-string", EVENTS_SUBJECT, message);
    send_json(conn, "event-type-number", EVENTS_SUBJECT,
              event(bad, ++sequence, now_text, json_pack("{s:i, s:i}", "event_type", 5, "value", 5)));
    send_json(conn, "status-number", EVENTS_SUBJECT,
              event(bad, ++sequence, now_text, json_pack("{s:s, s:i, s:i}", "event_type",
                                                         "user.login", "value", 5, "status", 1)));
    send_json(conn, "missing-value", EVENTS_SUBJECT,
              event(bad, ++sequence, now_text, json_pack("{s:s}", "event_type", "user.login")));
    send_json(conn, "bare-date", EVENTS_SUBJECT, event(bad, ++sequence, date, upstream_data()));
    send_json(conn, "no-zone", EVENTS_SUBJECT, event(bad, ++sequence, no_zone, upstream_data()));
    send_json(conn, "impossible-date", EVENTS_SUBJECT,
              event(bad, ++sequence, "2025-02-30T12:00:00Z", upstream_data()));
    message = event(bad, ++sequence, now_text, upstream_data());
    char other_id[320];
    snprintf(other_id, sizeof other_id, "%s-%lld", bad, sequence + 1);
    json_object_set_new(message, "message_id", json_string(other_id));
    send_json(conn, "id-mismatch", EVENTS_SUBJECT, message);
    memset(long_source, 'c', 300);
    long_source[300] = '\0';
    send_json(conn, "source-too-long", EVENTS_SUBJECT,
              event(long_source, ++sequence, now_text, upstream_data()));
    send_text(conn, "not-json", EVENTS_SUBJECT, "{\"message_id\": ");
    char id[320];
    snprintf(id, sizeof id, "TXN-%s-1", bad);
    send_json(conn, "payment-amount-string", "payments.credit_card.accepted",
              json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "transaction_id", id,
                        "timestamp", now_text, "source", bad, "card_type", "Visa", "last_four",
                        "0042", "amount", "49.99", "currency", "USD", "status", "accepted",
                        "merchant_id", "MERCH-1234", "authorization_code", "AUTH-0A1B2C3D"));
    clock_gettime(CLOCK_REALTIME, &now);
    stamp(&now, "upstream-js", now_text, sizeof now_text);
    send_json(conn, "after", EVENTS_SUBJECT, event(source, 1, now_text, upstream_data()));
}

/* --- the strict consumer --- */

typedef struct {
    char source[300];
    long long last;
} Counter;

typedef struct {
    pthread_mutex_t lock;
    pthread_cond_t changed;
    regex_t stamp, last_four, merchant, auth;
    Counter sequences[MAX_SOURCES], transactions[MAX_SOURCES];
    int events, payments, accepted, declined, errors;
} State;

static long long *last_of(Counter *counters, const char *source) {
    for (int i = 0; i < MAX_SOURCES; i++) {
        if (counters[i].source[0] == '\0') {
            snprintf(counters[i].source, sizeof counters[i].source, "%s", source);
            counters[i].last = 0;
        }
        if (strcmp(counters[i].source, source) == 0) return &counters[i].last;
    }
    return NULL;
}

/* NULL when `object` has exactly `keys` (NULL-terminated), else what is wrong. */
static const char *exact_keys(json_t *object, const char *const *keys, char *why, size_t size) {
    if (!json_is_object(object)) return "not a JSON object";
    const char *key;
    json_t *value;
    size_t wanted = 0;
    json_object_foreach(object, key, value) {
        int known = 0;
        for (const char *const *k = keys; *k; k++) known |= strcmp(*k, key) == 0;
        if (!known) {
            snprintf(why, size, "unknown field %s", key);
            return why;
        }
    }
    for (const char *const *k = keys; *k; k++, wanted++) {
        if (json_object_get(object, *k) == NULL) {
            snprintf(why, size, "field %s is missing", *k);
            return why;
        }
    }
    (void)value;
    return json_object_size(object) == wanted ? NULL : "duplicate fields";
}

static const char *string_of(json_t *object, const char *key) {
    json_t *value = json_object_get(object, key);
    return json_is_string(value) ? json_string_value(value) : NULL;
}

static int matches(const regex_t *pattern, const char *text) {
    return text != NULL && regexec(pattern, text, 0, NULL, 0) == 0;
}

static const char *check_stamp(State *state, const char *text) {
    if (!matches(&state->stamp, text)) return "timestamp is not UTC with microseconds and Z";
    struct tm parts = {0};
    if (strptime(text, "%Y-%m-%dT%H:%M:%S", &parts) == NULL) return "timestamp does not parse";
    double age = difftime(time(NULL), timegm(&parts));
    return age < -60 || age > 60 ? "timestamp is not now" : NULL;
}

static const char *header_is(natsMsg *msg, const char *expected) {
    const char *value = NULL;
    if (natsMsgHeader_Get(msg, "Nats-Msg-Id", &value) != NATS_OK || value == NULL ||
        strcmp(value, expected) != 0)
        return "Nats-Msg-Id is not the message's id";
    return NULL;
}

static const char *check_event(State *state, natsMsg *msg, json_t *root, char *why, size_t size) {
    static const char *const top[] = {"message_id", "timestamp", "source", "sequence", "data", NULL};
    static const char *const inner[] = {"event_type", "value", "random_field", "status",
                                        "description", NULL};
    static const char *const types[] = {"user.login", "User login", "user.logout", "User logout",
                                        "order.created", "Order created", "payment.processed",
                                        "Payment processed", NULL};
    const char *problem = exact_keys(root, top, why, size);
    if (problem) return problem;
    json_t *data = json_object_get(root, "data");
    if ((problem = exact_keys(data, inner, why, size))) return problem;
    const char *id = string_of(root, "message_id"), *source = string_of(root, "source");
    json_t *sequence = json_object_get(root, "sequence"), *value = json_object_get(data, "value");
    if (!id || !source || !*source) return "message_id or source is not a non-empty string";
    if (!json_is_integer(sequence) || json_integer_value(sequence) < 1)
        return "sequence is not a positive integer";
    long long seq = json_integer_value(sequence), *last = last_of(state->sequences, source);
    if (last == NULL || seq != *last + 1) return "sequence does not follow the last one";
    *last = seq;
    char expected[400];
    snprintf(expected, sizeof expected, "%s-%lld", source, seq);
    if (strcmp(id, expected) != 0) return "message_id is not source-sequence";
    if ((problem = header_is(msg, id))) return problem;
    if ((problem = check_stamp(state, string_of(root, "timestamp")))) return problem;
    const char *event_type = string_of(data, "event_type"), *words = NULL;
    for (const char *const *t = types; event_type && *t; t += 2)
        if (strcmp(*t, event_type) == 0) words = t[1];
    if (words == NULL) return "event_type is not a default type";
    if (!json_is_integer(value) || json_integer_value(value) < 1 || json_integer_value(value) > 1000)
        return "value is not an integer in 1..1000";
    const char *random_field = string_of(data, "random_field");
    if (!random_field || (strcmp(random_field, "alpha") && strcmp(random_field, "beta") &&
                          strcmp(random_field, "gamma") && strcmp(random_field, "delta")))
        return "random_field is not alpha, beta, gamma or delta";
    const char *status = string_of(data, "status"), *description = string_of(data, "description");
    if (!status || strcmp(status, "success") != 0) return "status is not success";
    snprintf(expected, sizeof expected, "%s event #%lld", words, seq);
    if (!description || strcmp(description, expected) != 0) return "description is wrong";
    return NULL;
}

static const char *check_payment(State *state, natsMsg *msg, json_t *root, char *why, size_t size) {
    static const char *const accepted[] = {"transaction_id", "timestamp", "source", "card_type",
                                           "last_four", "amount", "currency", "status",
                                           "merchant_id", "authorization_code", NULL};
    static const char *const declined[] = {"transaction_id", "timestamp", "source", "card_type",
                                           "last_four", "amount", "currency", "status",
                                           "decline_reason", "merchant_id", "decline_code", NULL};
    static const char *const codes[] = {"insufficient_funds", "ERR-051", "card_expired", "ERR-054",
                                        "invalid_cvv", "ERR-082", "suspected_fraud", "ERR-059",
                                        "card_limit_exceeded", "ERR-061", "issuer_declined",
                                        "ERR-005", NULL};
    static const double amounts[] = {29.99, 49.99, 99.99, 149.99, 249.99, 499.99};
    const char *subject = natsMsg_GetSubject(msg);
    int is_accepted = strcmp(subject, "payments.credit_card.accepted") == 0;
    if (!is_accepted && strcmp(subject, "payments.credit_card.declined") != 0)
        return "unexpected subject";
    const char *problem = exact_keys(root, is_accepted ? accepted : declined, why, size);
    if (problem) return problem;
    const char *id = string_of(root, "transaction_id"), *source = string_of(root, "source");
    if (!id || !source || !*source) return "transaction_id or source is not a non-empty string";
    char prefix[320];
    snprintf(prefix, sizeof prefix, "TXN-%s-", source);
    if (strncmp(id, prefix, strlen(prefix)) != 0) return "transaction_id is not TXN-source-n";
    char *end;
    errno = 0;
    long long number = strtoll(id + strlen(prefix), &end, 10);
    long long *last = last_of(state->transactions, source);
    if (errno || *end || last == NULL || number != *last + 1)
        return "transaction number does not follow the last one";
    *last = number;
    if ((problem = header_is(msg, id))) return problem;
    if ((problem = check_stamp(state, string_of(root, "timestamp")))) return problem;
    const char *card = string_of(root, "card_type");
    if (!card || (strcmp(card, "Visa") && strcmp(card, "Mastercard") && strcmp(card, "Amex") &&
                  strcmp(card, "Discover")))
        return "card_type is unknown";
    if (!matches(&state->last_four, string_of(root, "last_four"))) return "last_four is not 4 digits";
    json_t *amount = json_object_get(root, "amount");
    int known_amount = 0;
    for (int i = 0; i < 6 && json_is_real(amount); i++)
        known_amount |= json_real_value(amount) == amounts[i];
    if (!known_amount) return "amount is not one of the known amounts";
    const char *currency = string_of(root, "currency"), *status = string_of(root, "status");
    if (!currency || strcmp(currency, "USD") != 0) return "currency is not USD";
    if (!status || strcmp(status, is_accepted ? "accepted" : "declined") != 0)
        return "status does not match the subject";
    if (!matches(&state->merchant, string_of(root, "merchant_id"))) return "merchant_id is wrong";
    if (is_accepted) {
        if (!matches(&state->auth, string_of(root, "authorization_code")))
            return "authorization_code is wrong";
        state->accepted++;
        return NULL;
    }
    const char *reason = string_of(root, "decline_reason"), *code = string_of(root, "decline_code");
    for (const char *const *c = codes; reason && code && *c; c += 2)
        if (strcmp(*c, reason) == 0 && strcmp(c[1], code) == 0) {
            state->declined++;
            return NULL;
        }
    return "decline_reason and decline_code do not go together";
}

static void on_message(natsConnection *conn, natsSubscription *sub, natsMsg *msg, void *closure) {
    (void)conn;
    (void)sub;
    State *state = closure;
    const char *subject = natsMsg_GetSubject(msg);
    int payment = strncmp(subject, "payments.", 9) == 0;
    char why[400];
    const char *problem;
    json_error_t error;
    pthread_mutex_lock(&state->lock);
    json_t *root = json_loadb(natsMsg_GetData(msg), (size_t)natsMsg_GetDataLength(msg),
                              JSON_REJECT_DUPLICATES, &error);
    if (root == NULL) {
        problem = "not valid JSON";
    } else {
        problem = payment ? check_payment(state, msg, root, why, sizeof why)
                          : check_event(state, msg, root, why, sizeof why);
        json_decref(root);
    }
    if (payment)
        state->payments++;
    else
        state->events++;
    if (problem) {
        state->errors++;
        json_t *payload = json_stringn(natsMsg_GetData(msg), (size_t)natsMsg_GetDataLength(msg));
        print_json(json_pack("{s:s, s:s, s:o}", "error", problem, "subject", subject, "payload",
                             payload ? payload : json_string("(not UTF-8)")));
    }
    pthread_cond_signal(&state->changed);
    pthread_mutex_unlock(&state->lock);
    natsMsg_Destroy(msg);
}

static int subscribe(natsConnection *conn, int events, int payments) {
    static State state;
    natsSubscription *subs[2] = {NULL, NULL};
    pthread_mutex_init(&state.lock, NULL);
    pthread_cond_init(&state.changed, NULL);
    if (regcomp(&state.stamp, "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{6}Z$",
                REG_EXTENDED | REG_NOSUB) ||
        regcomp(&state.last_four, "^[0-9]{4}$", REG_EXTENDED | REG_NOSUB) ||
        regcomp(&state.merchant, "^MERCH-[0-9]{4}$", REG_EXTENDED | REG_NOSUB) ||
        regcomp(&state.auth, "^AUTH-[0-9A-F]{8}$", REG_EXTENDED | REG_NOSUB))
        fail("cannot compile the patterns");
    if (natsConnection_Subscribe(&subs[0], conn, "events.>", on_message, &state) != NATS_OK ||
        natsConnection_Subscribe(&subs[1], conn, "payments.>", on_message, &state) != NATS_OK ||
        natsConnection_Flush(conn) != NATS_OK)
        fail("cannot subscribe");
    print_json(json_pack("{s:b}", "ready", 1));
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += 60;
    pthread_mutex_lock(&state.lock);
    int timed_out = 0;
    while ((state.events < events || state.payments < payments) && !timed_out)
        timed_out = pthread_cond_timedwait(&state.changed, &state.lock, &deadline) == ETIMEDOUT;
    int code = timed_out ? 3 : state.errors ? 1 : 0;
    if (timed_out)
        print_json(json_pack("{s:b, s:i, s:i}", "timeout", 1, "events", state.events, "payments",
                             state.payments));
    else
        print_json(json_pack("{s:b, s:i, s:i, s:i, s:i}", "done", 1, "events", state.events,
                             "accepted", state.accepted, "declined", state.declined, "errors",
                             state.errors));
    pthread_mutex_unlock(&state.lock);
    for (int i = 0; i < 2; i++) {
        natsSubscription_Unsubscribe(subs[i]);
        natsSubscription_Destroy(subs[i]);
    }
    return code;
}

int main(int argc, char **argv) {
    if (argc < 4) fail("usage: peer publish|hostile URL SOURCE | peer subscribe URL EVENTS PAYMENTS");
    setenv("TZ", "IST-5:30", 1); /* the zone C programs here write local times in: +05:30 */
    tzset();
    natsConnection *conn = NULL;
    natsStatus status = natsConnection_ConnectTo(&conn, argv[2]);
    if (status != NATS_OK) fail("connect: %s", natsStatus_GetText(status));
    int code = 0;
    if (strcmp(argv[1], "publish") == 0) {
        publish_valid(conn, argv[3]);
    } else if (strcmp(argv[1], "hostile") == 0) {
        publish_hostile(conn, argv[3]);
    } else if (strcmp(argv[1], "subscribe") == 0 && argc == 5) {
        code = subscribe(conn, atoi(argv[3]), atoi(argv[4]));
    } else {
        fail("unknown command %s", argv[1]);
    }
    if (natsConnection_Flush(conn) != NATS_OK) fail("flush failed");
    natsConnection_Destroy(conn);
    nats_Close();
    return code;
}
