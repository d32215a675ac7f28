/* fleet: the discrete-event engine of the fleet model (see fleet.h).
 *
 * Events live in one binary min-heap ordered by (time, sequence number), so
 * equal times resolve in insertion order and a seed replays exactly. Each
 * backend is a FIFO queue in front of `slots` processor-sharing servers; the
 * shared progress is a virtual clock v (work-seconds done by every request in
 * service), so only the earliest finisher needs an event, and a change of
 * speed re-schedules it (older completion events are recognised by their
 * generation and dropped). */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>

#include "fleet.h"
#include "util.h"

#define RUN_BUCKETS 2400 /* 1 % log buckets from 1 us up */
#define RUN_MIN_S 1e-6

enum ev_kind { EV_ARRIVAL, EV_COMPLETE, EV_FASTDONE, EV_STEP, EV_JOIN };

struct event {
	double t;
	uint64_t seq;
	uint64_t gen;   /* EV_COMPLETE: backend generation it was computed for */
	double t_arr;   /* EV_FASTDONE: when the request arrived */
	uint32_t b;
	uint8_t kind;
};

struct req {
	double key;     /* in service: virtual finish time; queued: work */
	double t_arr;
	double work;
	uint8_t err;
};

struct dvec {
	double *v;
	size_t n, cap;
};

struct backend {
	struct fleet_backend_spec spec;
	double weight;
	int group;
	/* service */
	struct req *svc;   /* min-heap on key */
	size_t n_svc, cap_svc;
	struct req *q;     /* FIFO ring */
	size_t q_head, q_len, q_cap;
	unsigned fast;     /* fail-fast requests in flight */
	double v, t_v;
	uint64_t gen;
	/* records */
	struct fleet_counters c;
	uint64_t routed, done, errors;
	struct dvec lat;
	/* passive health check: the consecutive failures' times (the last
	 * FLEET_PASSIVE_MAX), and the end of a down period */
	double fail_t[FLEET_PASSIVE_MAX];
	size_t n_fail;
	double down_until;
};

struct fleet {
	struct fleet_spec spec; /* copy; schedules deep-copied, backends array owned */
	struct backend *b;
	size_t n;
	char (*groups)[FLEET_NAME_MAX];
	double *group_w;
	struct fleet_counters *group_c;
	size_t n_groups;
	struct fleet_chooser ch;
	double now;
	uint64_t rng[4];
	struct event *ev;
	size_t n_ev, cap_ev;
	uint64_t seq;
	double lambda_max;
	struct fleet_counters total;
	/* interval */
	double t0;
	uint64_t arrived, routed, rejected, done, errors;
	struct dvec lat;
	struct fleet_truth truth;
	struct fleet_truth_backend *truth_b;
	uint64_t run_hist[RUN_BUCKETS];
	uint64_t run_n;
	unsigned passive_max;   /* 0: no passive health check */
	double passive_window_s;
};

/* ---- schedules ---------------------------------------------------------- */

double fleet_sched_at(const struct fleet_sched *s, double t)
{
	if (!s->n)
		return 0;
	double v = s->v[0];
	for (size_t i = 0; i < s->n && s->t_s[i] <= t; i++)
		v = s->v[i];
	return v;
}

int fleet_sched_add(struct fleet_sched *s, double t_s, double v)
{
	size_t i = 0;
	while (i < s->n && s->t_s[i] < t_s)
		i++;
	if (i < s->n && s->t_s[i] == t_s) {
		s->v[i] = v;
		return 0;
	}
	double *nt = realloc(s->t_s, (s->n + 1) * sizeof *nt);
	if (!nt)
		return -1;
	s->t_s = nt;
	double *nv = realloc(s->v, (s->n + 1) * sizeof *nv);
	if (!nv)
		return -1;
	s->v = nv;
	memmove(s->t_s + i + 1, s->t_s + i, (s->n - i) * sizeof *nt);
	memmove(s->v + i + 1, s->v + i, (s->n - i) * sizeof *nv);
	s->t_s[i] = t_s;
	s->v[i] = v;
	s->n++;
	return 0;
}

void fleet_sched_free(struct fleet_sched *s)
{
	free(s->t_s);
	free(s->v);
	s->t_s = s->v = NULL;
	s->n = 0;
}

static int sched_copy(struct fleet_sched *dst, const struct fleet_sched *src)
{
	memset(dst, 0, sizeof *dst);
	for (size_t i = 0; i < src->n; i++)
		if (fleet_sched_add(dst, src->t_s[i], src->v[i]) < 0)
			return -1;
	return 0;
}

static double sched_max(const struct fleet_sched *s)
{
	double m = 0;
	for (size_t i = 0; i < s->n; i++)
		if (s->v[i] > m)
			m = s->v[i];
	return m;
}

static void backend_spec_free(struct fleet_backend_spec *bs)
{
	fleet_sched_free(&bs->capacity);
	fleet_sched_free(&bs->slots);
	fleet_sched_free(&bs->latency);
	fleet_sched_free(&bs->errors);
	fleet_sched_free(&bs->error_latency);
}

void fleet_spec_free(struct fleet_spec *spec)
{
	for (size_t i = 0; i < spec->n_backends; i++)
		backend_spec_free(&spec->backends[i]);
	free(spec->backends);
	spec->backends = NULL;
	spec->n_backends = 0;
	fleet_sched_free(&spec->load.rate);
}

/* ---- random numbers: xoshiro256** seeded by splitmix64 ------------------- */

static uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

static uint64_t rng_next(uint64_t s[4])
{
	uint64_t r = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return r;
}

static void rng_seed(uint64_t s[4], uint64_t seed)
{
	for (int i = 0; i < 4; i++) {
		uint64_t z = (seed += 0x9e3779b97f4a7c15ULL);
		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
		z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
		s[i] = z ^ (z >> 31);
	}
}

double fleet_random(struct fleet *f)
{
	return (double)(rng_next(f->rng) >> 11) * 0x1.0p-53;
}

static double rnd_open(struct fleet *f) /* (0,1] */
{
	return 1.0 - fleet_random(f);
}

static double rnd_normal(struct fleet *f)
{
	return sqrt(-2.0 * log(rnd_open(f))) * cos(2.0 * M_PI * fleet_random(f));
}

/* ---- growable arrays and the event heap ---------------------------------- */

static int dvec_push(struct dvec *d, double x)
{
	d->v = util_grow(d->v, &d->cap, d->n + 1, sizeof *d->v, 256);
	d->v[d->n++] = x;
	return 0;
}

static bool ev_less(const struct event *a, const struct event *b)
{
	return a->t < b->t || (a->t == b->t && a->seq < b->seq);
}

static int ev_push(struct fleet *f, struct event e)
{
	f->ev = util_grow(f->ev, &f->cap_ev, f->n_ev + 1, sizeof *f->ev, 64);
	e.seq = f->seq++;
	size_t i = f->n_ev++;
	while (i > 0 && ev_less(&e, &f->ev[(i - 1) / 2])) {
		f->ev[i] = f->ev[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	f->ev[i] = e;
	return 0;
}

static struct event ev_pop(struct fleet *f)
{
	struct event top = f->ev[0], last = f->ev[--f->n_ev];
	size_t i = 0;
	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= f->n_ev)
			break;
		if (c + 1 < f->n_ev && ev_less(&f->ev[c + 1], &f->ev[c]))
			c++;
		if (!ev_less(&f->ev[c], &last))
			break;
		f->ev[i] = f->ev[c];
		i = c;
	}
	if (f->n_ev)
		f->ev[i] = last;
	return top;
}

/* In-service min-heap on key. */
static int svc_push(struct backend *b, struct req r)
{
	b->svc = util_grow(b->svc, &b->cap_svc, b->n_svc + 1, sizeof *b->svc, 16);
	size_t i = b->n_svc++;
	while (i > 0 && r.key < b->svc[(i - 1) / 2].key) {
		b->svc[i] = b->svc[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	b->svc[i] = r;
	return 0;
}

static struct req svc_pop(struct backend *b)
{
	struct req top = b->svc[0], last = b->svc[--b->n_svc];
	size_t i = 0;
	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= b->n_svc)
			break;
		if (c + 1 < b->n_svc && b->svc[c + 1].key < b->svc[c].key)
			c++;
		if (!(b->svc[c].key < last.key))
			break;
		b->svc[i] = b->svc[c];
		i = c;
	}
	if (b->n_svc)
		b->svc[i] = last;
	return top;
}

static int q_push(struct backend *b, struct req r)
{
	if (b->q_len == b->q_cap) {
		size_t nc = b->q_cap ? b->q_cap * 2 : 16;
		struct req *nq = malloc(nc * sizeof *nq);
		if (!nq)
			return -1;
		for (size_t i = 0; i < b->q_len; i++)
			nq[i] = b->q[(b->q_head + i) % b->q_cap];
		free(b->q);
		b->q = nq;
		b->q_head = 0;
		b->q_cap = nc;
	}
	b->q[(b->q_head + b->q_len++) % b->q_cap] = r;
	return 0;
}

static struct req q_pop(struct backend *b)
{
	struct req r = b->q[b->q_head];
	b->q_head = (b->q_head + 1) % b->q_cap;
	b->q_len--;
	return r;
}

/* ---- the backend's service ----------------------------------------------- */

static size_t slots_at(const struct backend *b, double t)
{
	double s = floor(fleet_sched_at(&b->spec.slots, t) + 0.5);
	if (!(s >= 1))
		s = 1;
	if (b->spec.batch) {
		/* capacity caps how many fit in a batch: slots = capacity x latency */
		double fit = floor(fleet_sched_at(&b->spec.capacity, t) *
				   fleet_sched_at(&b->spec.latency, t) + 0.5);
		if (fit < s)
			s = fit < 1 ? 1 : fit;
	}
	return (size_t)s;
}

/* Speed of each request in service (work-seconds per second) with k in service. */
static double speed(const struct backend *b, size_t k, double t)
{
	if (b->spec.batch)
		return 1;
	double slots = (double)slots_at(b, t);
	double cap = fleet_sched_at(&b->spec.capacity, t);
	double lat = fleet_sched_at(&b->spec.latency, t);
	double cl = cap * lat;
	if (!(cl > 0))
		return 1e-9;
	if (slots <= 1)
		return cl >= 1 ? 1 : cl;
	double alpha = (slots / cl - 1) / (slots - 1);
	if (alpha < 0)
		alpha = 0;
	return 1.0 / (1.0 + ((double)k - 1) * alpha);
}

/* Brings v to now at the speed in effect since t_v (every schedule step and
 * every change of the number in service updates t_v, so it held throughout). */
static void advance(struct fleet *f, struct backend *b)
{
	if (b->n_svc)
		b->v += (f->now - b->t_v) * speed(b, b->n_svc, b->t_v);
	b->t_v = f->now;
}

static int reschedule(struct fleet *f, size_t bi)
{
	struct backend *b = &f->b[bi];
	b->gen++;
	if (!b->n_svc)
		return 0;
	double dv = b->svc[0].key - b->v;
	if (dv < 0)
		dv = 0;
	struct event e = { .t = f->now + dv / speed(b, b->n_svc, f->now), .kind = EV_COMPLETE,
			   .b = (uint32_t)bi, .gen = b->gen };
	return ev_push(f, e);
}

static int admit(struct backend *b, struct req r)
{
	r.key = b->v + r.work;
	return svc_push(b, r);
}

static void count(struct fleet_counters *c, const double *le, size_t n_le, double lat, int code)
{
	if (code == 200)
		c->code200++;
	else if (code == 500)
		c->code500++;
	else
		c->code503++;
	for (size_t i = 0; i < n_le; i++)
		if (lat <= le[i])
			c->hist.bucket[i]++;
	c->hist.bucket[n_le]++;
	c->hist.sum_s += lat;
	c->hist.count++;
}

/* Traefik's passive health check (pkg/healthcheck, PassiveServiceHealthChecker):
 * an answer below 500 forgets the failures; a 5xx is recorded, and when
 * max_failed of them fall within the window the server is down for one
 * window from then (one timer: failures while down change nothing). */
static void passive_record(struct fleet *f, struct backend *b, int code)
{
	if (!f->passive_max)
		return;
	if (code < 500) {
		b->n_fail = 0;
		return;
	}
	if (b->n_fail == f->passive_max) {
		memmove(b->fail_t, b->fail_t + 1, (b->n_fail - 1) * sizeof *b->fail_t);
		b->n_fail--;
	}
	b->fail_t[b->n_fail++] = f->now;
	if (b->n_fail == f->passive_max && b->fail_t[0] > f->now - f->passive_window_s &&
	    !(b->down_until > f->now))
		b->down_until = f->now + f->passive_window_s;
}

static void finish(struct fleet *f, size_t bi, double t_arr, int code)
{
	struct backend *b = &f->b[bi];
	double lat = f->now - t_arr;
	passive_record(f, b, code);
	count(&b->c, f->spec.buckets, f->spec.n_buckets, lat, code);
	if (b->group >= 0)
		count(&f->group_c[b->group], f->spec.buckets, f->spec.n_buckets, lat, code);
	count(&f->total, f->spec.buckets, f->spec.n_buckets, lat, code);
	b->done++;
	f->done++;
	if (code != 200) {
		b->errors++;
		f->errors++;
	}
	/* out of memory only loses ground-truth samples, never the run */
	(void)dvec_push(&b->lat, lat);
	(void)dvec_push(&f->lat, lat);
	int k = lat > RUN_MIN_S ? (int)(log(lat / RUN_MIN_S) / log(1.01)) : 0;
	if (k >= RUN_BUCKETS)
		k = RUN_BUCKETS - 1;
	f->run_hist[k]++;
	f->run_n++;
	if (f->ch.on_done)
		f->ch.on_done(f->ch.ctx, f, bi, lat, code);
}

static void fill_slots(struct fleet *f, struct backend *b)
{
	size_t slots = slots_at(b, f->now);
	while (b->q_len && b->n_svc < slots)
		(void)admit(b, q_pop(b));
}

static void reload(struct fleet *f);

/* ---- events -------------------------------------------------------------- */

static double load_at(const struct fleet *f, double t)
{
	const struct fleet_load_spec *l = &f->spec.load;
	double r = fleet_sched_at(&l->rate, t);
	if (l->diurnal_amplitude != 0 && l->diurnal_period_s > 0)
		r *= 1 + l->diurnal_amplitude *
			sin(2 * M_PI * (t - l->diurnal_phase_s) / l->diurnal_period_s);
	return r > 0 ? r : 0;
}

static int next_arrival(struct fleet *f)
{
	if (!(f->lambda_max > 0))
		return 0;
	struct event e = { .t = f->now - log(rnd_open(f)) / f->lambda_max, .kind = EV_ARRIVAL };
	return ev_push(f, e);
}

static void on_arrival(struct fleet *f)
{
	/* thinning: candidates at lambda_max, kept with probability rate(t)/lambda_max */
	if (fleet_random(f) * f->lambda_max >= load_at(f, f->now)) {
		(void)next_arrival(f);
		return;
	}
	(void)next_arrival(f);
	f->arrived++;
	int bi = f->ch.pick(f->ch.ctx, f);
	if (bi < 0 || (size_t)bi >= f->n) {
		f->rejected++;
		count(&f->total, f->spec.buckets, f->spec.n_buckets, 0, 503);
		return;
	}
	struct backend *b = &f->b[bi];
	b->routed++;
	f->routed++;
	struct req r = { .t_arr = f->now };
	r.err = fleet_random(f) < fleet_sched_at(&b->spec.errors, f->now);
	if (r.err && b->spec.error_latency.n) {
		struct event e = { .t = f->now + fleet_sched_at(&b->spec.error_latency, f->now),
				   .kind = EV_FASTDONE, .b = (uint32_t)bi, .t_arr = f->now };
		if (ev_push(f, e) == 0)
			b->fast++;
		return;
	}
	if (f->spec.queue_limit && b->q_len >= f->spec.queue_limit) {
		finish(f, (size_t)bi, f->now, 503);
		return;
	}
	double sigma = b->spec.jitter;
	r.work = fleet_sched_at(&b->spec.latency, f->now) *
		 exp(sigma * rnd_normal(f) - sigma * sigma / 2);
	advance(f, b);
	if (b->n_svc < slots_at(b, f->now))
		(void)admit(b, r);
	else
		(void)q_push(b, r);
	(void)reschedule(f, (size_t)bi);
}

static void on_complete(struct fleet *f, size_t bi)
{
	struct backend *b = &f->b[bi];
	advance(f, b);
	/* tolerate rounding: whatever is due within a nanosecond of work is done */
	while (b->n_svc && b->svc[0].key <= b->v + 1e-9) {
		struct req r = svc_pop(b);
		finish(f, bi, r.t_arr, r.err ? 500 : 200);
	}
	fill_slots(f, b);
	(void)reschedule(f, bi);
}

static void on_step(struct fleet *f)
{
	/* v was advanced at the old speed up to now by the caller; new speeds and
	 * slot counts apply from here */
	for (size_t i = 0; i < f->n; i++) {
		fill_slots(f, &f->b[i]);
		(void)reschedule(f, i);
	}
}

void fleet_run_until(struct fleet *f, double t_s)
{
	while (f->n_ev && f->ev[0].t <= t_s) {
		struct event e = ev_pop(f);
		if (e.kind == EV_COMPLETE && e.gen != f->b[e.b].gen)
			continue;
		if (e.kind == EV_STEP) {
			/* bring every virtual clock to the step at the old speeds */
			if (e.t > f->now)
				f->now = e.t;
			for (size_t i = 0; i < f->n; i++)
				advance(f, &f->b[i]);
			on_step(f);
			continue;
		}
		if (e.t > f->now)
			f->now = e.t;
		if (e.kind == EV_JOIN) {
			reload(f); /* the balancer rebuilds with the new server */
			continue;
		}
		switch (e.kind) {
		case EV_ARRIVAL:
			on_arrival(f);
			break;
		case EV_COMPLETE:
			on_complete(f, e.b);
			break;
		case EV_FASTDONE:
			f->b[e.b].fast--;
			finish(f, e.b, e.t_arr, 500);
			break;
		default:
			break;
		}
	}
	if (t_s > f->now)
		f->now = t_s;
}

double fleet_now(const struct fleet *f)
{
	return f->now;
}

double fleet_next_event(const struct fleet *f)
{
	return f->n_ev ? f->ev[0].t : INFINITY;
}

/* ---- construction -------------------------------------------------------- */

/* Prometheus client libraries' default buckets. */
static const double default_buckets[] = { 0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
					  0.5, 1, 2.5, 5, 10 };

static int group_index(struct fleet *f, const char *name)
{
	for (size_t g = 0; g < f->n_groups; g++)
		if (strcmp(f->groups[g], name) == 0)
			return (int)g;
	return -1;
}

static int check_sched(const struct fleet_sched *s, const char *bname, const char *what,
		       bool required, double lo, double hi, char *err, size_t errlen)
{
	if (required && !s->n) {
		snprintf(err, errlen, "backend \"%s\": %s missing", bname, what);
		return -1;
	}
	for (size_t i = 0; i < s->n; i++) {
		if (!isfinite(s->v[i]) || s->v[i] < lo || s->v[i] > hi || !isfinite(s->t_s[i]) ||
		    s->t_s[i] < 0) {
			snprintf(err, errlen, "backend \"%s\": %s %g at %gs out of range [%g, %g]",
				 bname, what, s->v[i], s->t_s[i], lo, hi);
			return -1;
		}
	}
	return 0;
}

static int check_spec(const struct fleet_spec *spec, char *err, size_t errlen)
{
	if (!spec->n_backends) {
		snprintf(err, errlen, "no backends");
		return -1;
	}
	bool any_group = false, any_plain = false;
	for (size_t i = 0; i < spec->n_backends; i++) {
		const struct fleet_backend_spec *bs = &spec->backends[i];
		if (!bs->name[0]) {
			snprintf(err, errlen, "backend %zu has no name", i + 1);
			return -1;
		}
		for (size_t j = 0; j < i; j++) {
			if (strcmp(spec->backends[j].name, bs->name) == 0) {
				snprintf(err, errlen, "backend \"%s\" defined twice", bs->name);
				return -1;
			}
		}
		if (check_sched(&bs->capacity, bs->name, "capacity", true, 1e-9, 1e9, err, errlen) ||
		    check_sched(&bs->slots, bs->name, "slots", true, 1, 1e6, err, errlen) ||
		    check_sched(&bs->latency, bs->name, "latency", true, 1e-6, 1e4, err, errlen) ||
		    check_sched(&bs->errors, bs->name, "errors", false, 0, 1, err, errlen) ||
		    check_sched(&bs->error_latency, bs->name, "error_latency", false, 0, 1e4, err,
				errlen))
			return -1;
		if (!isfinite(bs->weight) || bs->weight < 0 || !isfinite(bs->jitter) ||
		    bs->jitter < 0 || bs->jitter > 3 || !isfinite(bs->join_s) || bs->join_s < 0) {
			snprintf(err, errlen, "backend \"%s\": weight, jitter or join out of range", bs->name);
			return -1;
		}
		if (bs->service[0])
			any_group = true;
		else
			any_plain = true;
	}
	if (any_group && any_plain) {
		snprintf(err, errlen, "either every backend names its service or none does");
		return -1;
	}
	if (check_sched(&spec->load.rate, "load", "rate", true, 0, 1e9, err, errlen))
		return -1;
	const struct fleet_load_spec *l = &spec->load;
	if (!isfinite(l->diurnal_amplitude) || l->diurnal_amplitude < 0 ||
	    l->diurnal_amplitude > 1 || (l->diurnal_amplitude > 0 && !(l->diurnal_period_s > 0))) {
		snprintf(err, errlen, "load: diurnal amplitude must be in [0, 1] with a positive period");
		return -1;
	}
	for (size_t i = 0; i < spec->n_buckets; i++) {
		if (!isfinite(spec->buckets[i]) || spec->buckets[i] <= 0 ||
		    (i && spec->buckets[i] <= spec->buckets[i - 1])) {
			snprintf(err, errlen, "buckets must be positive and ascending");
			return -1;
		}
	}
	return 0;
}

static int push_steps(struct fleet *f, const struct fleet_sched *s)
{
	for (size_t i = 0; i < s->n; i++) {
		if (s->t_s[i] <= 0)
			continue;
		struct event e = { .t = s->t_s[i], .kind = EV_STEP };
		if (ev_push(f, e) < 0)
			return -1;
	}
	return 0;
}

static int build(struct fleet *f, const struct fleet_spec *spec)
{
	f->spec = *spec;
	f->spec.backends = NULL;
	f->spec.n_backends = 0;
	if (sched_copy(&f->spec.load.rate, &spec->load.rate) < 0)
		return -1;
	if (!f->spec.n_buckets) {
		f->spec.n_buckets = sizeof default_buckets / sizeof *default_buckets;
		memcpy(f->spec.buckets, default_buckets, sizeof default_buckets);
	}
	f->b = calloc(spec->n_backends, sizeof *f->b);
	f->groups = calloc(spec->n_backends, sizeof *f->groups);
	f->group_w = calloc(spec->n_backends, sizeof *f->group_w);
	f->group_c = calloc(spec->n_backends, sizeof *f->group_c);
	f->truth_b = calloc(spec->n_backends, sizeof *f->truth_b);
	if (!f->b || !f->groups || !f->group_w || !f->group_c || !f->truth_b)
		return -1;
	for (size_t i = 0; i < spec->n_backends; i++) {
		struct backend *b = &f->b[i];
		const struct fleet_backend_spec *src = &spec->backends[i];
		b->spec = *src;
		f->n++;
		if (sched_copy(&b->spec.capacity, &src->capacity) ||
		    sched_copy(&b->spec.slots, &src->slots) ||
		    sched_copy(&b->spec.latency, &src->latency) ||
		    sched_copy(&b->spec.errors, &src->errors) ||
		    sched_copy(&b->spec.error_latency, &src->error_latency))
			return -1;
		b->weight = src->weight;
		b->group = -1;
		if (src->service[0]) {
			b->group = group_index(f, src->service);
			if (b->group < 0) {
				b->group = (int)f->n_groups;
				snprintf(f->groups[f->n_groups], FLEET_NAME_MAX, "%s", src->service);
				f->group_w[f->n_groups++] = 1;
			}
		}
		if (push_steps(f, &b->spec.capacity) || push_steps(f, &b->spec.slots) ||
		    push_steps(f, &b->spec.latency))
			return -1;
		if (src->join_s > 0 && ev_push(f, (struct event){ .t = src->join_s, .kind = EV_JOIN }) < 0)
			return -1;
	}
	f->lambda_max = sched_max(&f->spec.load.rate) * (1 + f->spec.load.diurnal_amplitude);
	return next_arrival(f);
}

struct fleet *fleet_new(const struct fleet_spec *spec, char *err, size_t errlen)
{
	if (check_spec(spec, err, errlen) < 0)
		return NULL;
	struct fleet *f = calloc(1, sizeof *f);
	if (!f) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	rng_seed(f->rng, spec->seed);
	f->ch = fleet_chooser_wrr();
	if (!f->ch.pick || build(f, spec) < 0) {
		fleet_free(f);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (f->ch.on_weights)
		f->ch.on_weights(f->ch.ctx, f);
	return f;
}

void fleet_free(struct fleet *f)
{
	if (!f)
		return;
	if (f->ch.free)
		f->ch.free(f->ch.ctx);
	for (size_t i = 0; i < f->n; i++) {
		backend_spec_free(&f->b[i].spec);
		free(f->b[i].svc);
		free(f->b[i].q);
		free(f->b[i].lat.v);
	}
	fleet_sched_free(&f->spec.load.rate);
	free(f->b);
	free(f->groups);
	free(f->group_w);
	free(f->group_c);
	free(f->truth_b);
	free(f->ev);
	free(f->lat.v);
	free(f);
}

void fleet_set_passive(struct fleet *f, unsigned max_failed, double window_s)
{
	f->passive_max = max_failed < FLEET_PASSIVE_MAX ? max_failed : FLEET_PASSIVE_MAX;
	f->passive_window_s = window_s > 0 ? window_s : 0;
	if (!f->passive_window_s)
		f->passive_max = 0;
}

bool fleet_up(const struct fleet *f, size_t b)
{
	return b < f->n && !(f->b[b].down_until > f->now);
}

void fleet_set_chooser(struct fleet *f, struct fleet_chooser ch)
{
	if (f->ch.free)
		f->ch.free(f->ch.ctx);
	f->ch = ch;
	if (f->ch.on_weights)
		f->ch.on_weights(f->ch.ctx, f);
}

/* ---- weights and accessors ----------------------------------------------- */

size_t fleet_n_backends(const struct fleet *f)
{
	return f->n;
}

const char *fleet_backend_name(const struct fleet *f, size_t b)
{
	return b < f->n ? f->b[b].spec.name : NULL;
}

const char *fleet_backend_url(const struct fleet *f, size_t b)
{
	return b < f->n ? f->b[b].spec.url : NULL;
}

int fleet_backend_group(const struct fleet *f, size_t b)
{
	return b < f->n ? f->b[b].group : -1;
}

size_t fleet_n_groups(const struct fleet *f)
{
	return f->n_groups;
}

const char *fleet_group_name(const struct fleet *f, size_t g)
{
	return g < f->n_groups ? f->groups[g] : NULL;
}

static void reload(struct fleet *f)
{
	if (f->ch.on_weights)
		f->ch.on_weights(f->ch.ctx, f);
}

int fleet_set_weight(struct fleet *f, size_t b, double w)
{
	if (b >= f->n || !isfinite(w) || w < 0)
		return -1;
	if (f->b[b].weight != w) {
		f->b[b].weight = w;
		reload(f);
	}
	return 0;
}

int fleet_set_group_weight(struct fleet *f, size_t g, double w)
{
	if (g >= f->n_groups || !isfinite(w) || w < 0)
		return -1;
	if (f->group_w[g] != w) {
		f->group_w[g] = w;
		reload(f);
	}
	return 0;
}

int fleet_set_weights(struct fleet *f, const double *w)
{
	bool changed = false;
	for (size_t i = 0; i < f->n; i++)
		if (!isfinite(w[i]) || w[i] < 0)
			return -1;
	for (size_t i = 0; i < f->n; i++) {
		changed |= f->b[i].weight != w[i];
		f->b[i].weight = w[i];
	}
	if (changed)
		reload(f);
	return 0;
}

double fleet_weight(const struct fleet *f, size_t b)
{
	if (b >= f->n || f->now < f->b[b].spec.join_s)
		return 0;
	return f->b[b].weight;
}

double fleet_group_weight(const struct fleet *f, size_t g)
{
	return g < f->n_groups ? f->group_w[g] : 0;
}

unsigned fleet_inflight(const struct fleet *f, size_t b)
{
	if (b >= f->n)
		return 0;
	return (unsigned)(f->b[b].n_svc + f->b[b].q_len + f->b[b].fast);
}

const double *fleet_buckets(const struct fleet *f, size_t *n)
{
	*n = f->spec.n_buckets;
	return f->spec.buckets;
}

const struct fleet_counters *fleet_backend_counters(const struct fleet *f, size_t b)
{
	return b < f->n ? &f->b[b].c : NULL;
}

const struct fleet_counters *fleet_group_counters(const struct fleet *f, size_t g)
{
	return g < f->n_groups ? &f->group_c[g] : NULL;
}

const struct fleet_counters *fleet_total_counters(const struct fleet *f)
{
	return &f->total;
}

/* ---- ground truth -------------------------------------------------------- */

double fleet_hist_quantile(double q, const double *le, size_t n_le, const uint64_t *cum)
{
	uint64_t total = cum[n_le];
	if (!total || !(q >= 0 && q <= 1))
		return NAN;
	double rank = q * (double)total;
	size_t i = 0;
	while (i < n_le && (double)cum[i] < rank)
		i++;
	if (i == n_le)
		return n_le ? le[n_le - 1] : NAN;
	double lo = i ? le[i - 1] : 0, below = i ? (double)cum[i - 1] : 0;
	double in = (double)cum[i] - below;
	if (in <= 0)
		return le[i];
	return lo + (le[i] - lo) * (rank - below) / in;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static void quantiles(struct dvec *d, double *p50, double *p95, double *p99, double *mean)
{
	if (!d->n) {
		*p50 = *p95 = *p99 = *mean = NAN;
		return;
	}
	qsort(d->v, d->n, sizeof *d->v, cmp_double);
	double sum = 0;
	for (size_t i = 0; i < d->n; i++)
		sum += d->v[i];
	/* nearest rank */
	double qs[3] = { 0.50, 0.95, 0.99 }, *out[3] = { p50, p95, p99 };
	for (int k = 0; k < 3; k++) {
		size_t r = (size_t)ceil(qs[k] * (double)d->n);
		*out[k] = d->v[r ? r - 1 : 0];
	}
	*mean = sum / (double)d->n;
	d->n = 0;
}

int fleet_truth_take(struct fleet *f, const struct fleet_truth **out)
{
	struct fleet_truth *t = &f->truth;
	t->t0_s = f->t0;
	t->t1_s = f->now;
	t->n = f->n;
	t->b = f->truth_b;
	for (size_t i = 0; i < f->n; i++) {
		struct backend *b = &f->b[i];
		struct fleet_truth_backend *tb = &f->truth_b[i];
		tb->weight = b->weight;
		tb->routed = b->routed;
		tb->share = f->routed ? (double)b->routed / (double)f->routed : 0;
		tb->done = b->done;
		tb->errors = b->errors;
		tb->error_ratio = b->done ? (double)b->errors / (double)b->done : NAN;
		quantiles(&b->lat, &tb->p50_s, &tb->p95_s, &tb->p99_s, &tb->mean_s);
		b->routed = b->done = b->errors = 0;
	}
	t->arrived = f->arrived;
	t->routed = f->routed;
	t->rejected = f->rejected;
	t->done = f->done;
	t->errors = f->errors;
	t->error_ratio = f->done + f->rejected ?
		(double)(f->errors + f->rejected) / (double)(f->done + f->rejected) : NAN;
	quantiles(&f->lat, &t->p50_s, &t->p95_s, &t->p99_s, &t->mean_s);
	f->arrived = f->routed = f->rejected = f->done = f->errors = 0;
	f->t0 = f->now;
	*out = t;
	return 0;
}

double fleet_run_quantile(const struct fleet *f, double q)
{
	if (!f->run_n || !(q >= 0 && q <= 1))
		return NAN;
	uint64_t rank = (uint64_t)ceil(q * (double)f->run_n), acc = 0;
	if (!rank)
		rank = 1;
	for (int k = 0; k < RUN_BUCKETS; k++) {
		acc += f->run_hist[k];
		if (acc >= rank)
			return RUN_MIN_S * pow(1.01, k + 0.5);
	}
	return NAN;
}
