/* config_keys: internal to config.c and config_keys.c. The table of every
 * key weightd.conf may hold (config_keys.c: what the file may say) and the
 * reader that walks it (config.c: how a libconfig tree is read by it). */
#ifndef WD_CONFIG_KEYS_H
#define WD_CONFIG_KEYS_H

#include <libconfig.h>
#include <stdbool.h>
#include <stddef.h>

#include "config.h"

struct config_parser;
struct config_key;

/* Where a key may stand: one bit per group of the file. A key's field lives
 * in the struct of the first place named in its where (its home): a policy
 * key is a field of struct wd_policy_cfg wherever it is written. */
enum place {
	P_TOP = 1 << 0,            /* struct wd_config */
	P_PROM = 1 << 1,           /* prometheus = { }: struct wd_prom_cfg */
	P_OUTPUT = 1 << 2,         /* output = { }: struct wd_output_cfg */
	P_POLICY = 1 << 3,         /* policy = { } at the top: struct wd_policy_cfg */
	P_SERVICE_POLICY = 1 << 4, /* a service's policy = { }: its own override */
	P_SERVICE = 1 << 5,        /* services = ( { } ): struct wd_service_cfg */
	P_BACKEND = 1 << 6,        /* backends = ( { } ): struct wd_backend_cfg */
	P_HEALTH = 1 << 7,         /* health_check = { }: struct wd_health_cfg */
	P_COOKIE = 1 << 8,         /* sticky_cookie = { }: struct wd_lb_cfg */
	P_PASSIVE = 1 << 9,        /* passive_health_check = { }: struct wd_lb_cfg */
};

enum key_type {
	K_BOOL,     /* bool */
	K_TRISTATE, /* enum wd_tristate: a bool that may stay unset */
	K_INT,      /* int */
	K_INT64,    /* int64_t */
	K_DOUBLE,   /* double, always finite */
	K_DURATION, /* int64_t milliseconds, from "15s" or a number of seconds */
	K_ENUM,     /* int-sized enum: the index of the string in names */
	K_STRING,   /* char *, owned; restricted to names when names is set */
	K_SECRET,   /* char * path at off, char * content read from it at secret_off */
	K_GROUP,    /* { ... }: read by parse */
	K_LIST,     /* ( ... ) or [ ... ]: read by parse */
};

/* What bounds a number has (lo and hi in the key's row). */
enum { B_LO = 1, B_HI = 2, B_LO_OPEN = 4 };

/* Flags of a key. */
enum {
	KF_REQUIRED = 1,      /* absent is an error */
	KF_EMPTY_IS_NULL = 2, /* "" means unset: the field stays NULL */
	KF_NOT_EMPTY = 4,     /* "" is an error */
};

typedef void config_check_fn(struct config_parser *p, const config_setting_t *s, const char *qname,
		      const void *field);
typedef void config_parse_fn(struct config_parser *p, const config_setting_t *s, void *base);

struct config_key {
	const char *name;
	enum key_type type;
	unsigned where;      /* the places it may stand in (enum place bits) */
	unsigned flags;      /* KF_* */
	unsigned only;       /* output types it is for (1 << enum wd_output_type); 0: all */
	size_t off, size;    /* the field in its home struct */
	size_t secret_off;   /* K_SECRET: the field the file's content goes to */
	double def;          /* default of a number, bool, duration (ms) or enum (index) */
	const char *def_str; /* default of a string (NULL: unset) */
	unsigned bounds;     /* B_*, with lo and hi */
	double lo, hi;
	const char *const *names; /* K_ENUM: the values; K_STRING: the allowed values */
	const char *hint;    /* appended to a bounds error; for groups and lists, the
			      * shape shown when it is missing or of the wrong type */
	config_check_fn *check;     /* a rule of its own, after the value is stored */
	config_parse_fn *parse;     /* K_GROUP, K_LIST: reads the member */
};

struct config_parser {
	const char *file;
	struct wd_errors *errs;
	struct wd_errors *warns;
	const struct wd_service_cfg *svc; /* the service being read, for messages */
	const struct wd_backend_cfg *backend;
};

/* The table (config_keys.c), in reading order within each place. */
extern const struct config_key config_keys[];
extern const size_t config_n_keys;
/* The values of output.type, which a key's only refers to. */
extern const char *const config_output_types[];
/* A place's name in messages ("service policy"), and its keys' prefix ("policy."). */
const char *config_place_name(unsigned place);
const char *config_place_prefix(unsigned place);

/* The reader (config.c). */

/* The place whose struct holds k's field. */
unsigned config_home_of(const struct config_key *k);
/* Reads the keys of place from group g into base, the place's struct: each
 * present key by its row (type, bounds, check, or parse for a group), each
 * missing required one reported, each unknown member rejected. Output keys
 * depend on the type: variant 0 reads the keys for every type (and rejects
 * unknown ones), then 1 << type reads that type's keys and rejects others'. */
void config_read_group(struct config_parser *p, const config_setting_t *g, unsigned place,
		       void *base, unsigned variant);
/* Sets the fields whose home is place to their defaults. */
void config_set_defaults(unsigned place, void *base);
/* Replaces the string at field with a copy of v (NULL: unset). */
void config_set_string(char **field, const char *v);
/* Whether v is valid UTF-8; if not, reports it at s and, when fixed is not
 * NULL, sets *fixed to a copy with '?' for the bad bytes (NULL when out of
 * memory), so the checks that follow report nothing misleading such as
 * "missing". */
bool config_valid_utf8(struct config_parser *p, const config_setting_t *s, const char *qn,
		       const char *v, char **fixed);
/* The index of v in the NULL-ended names, or -1. */
int config_name_index(const char *const *names, const char *v);
int config_line_of(const config_setting_t *s);
/* An error at s, as is (config_err) or prefixed with the service and backend
 * being read (config_kerr); a warning, prefixed likewise. */
void config_err(struct config_parser *p, const config_setting_t *s, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void config_kerr(struct config_parser *p, const config_setting_t *s, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void config_warn(struct config_parser *p, const config_setting_t *s, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
