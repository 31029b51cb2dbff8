// spec.c — SPEC.json to a sweep plan: validation, grid expansion, precedence, dedupe, run names.
#include "exp/sweep.h"
#include "util/check.h"
#include "util/fileio.h"
#include "util/fmt.h"
#include "util/hash.h"

#include <ctype.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    json_t *base, *sizes, *experiments;  // borrowed from root
    char *err;
    size_t errlen;
} spec_ctx;

// Compact JSON text of a value (malloc'd), for messages and names.
static char *jtext(const json_t *v) { return json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY); }

// Applies one spec key through the train config's own parser, so types and ranges are checked
// exactly as `actlab train --config` checks them. Booleans are accepted for 0/1 keys.
static int apply_key(train_config *c, const char *key, json_t *v, char *err, size_t errlen) {
    if (!strcmp(key, "out")) {
        snprintf(err, errlen, "'out' is chosen by the sweep (DIR/runs/<name>); remove it from the spec");
        return -1;
    }
    if (!strcmp(key, "size")) {
        snprintf(err, errlen, "'size' is valid only as a grid key (a name from \"sizes\")");
        return -1;
    }
    if (!train_config_has_key(c, key))
        return err_set(err, errlen, "unknown key '%s': not an 'actlab train' config key nor a hyperparameter of the "
                       "activation %s (hyperparameters such as 'm' need \"act\" set to an activation that has them)",
                       key, act_desc_of(c->model.act.kind)->name);
    json_t *val = json_is_boolean(v) ? json_integer(json_is_true(v)) : json_incref(v);
    int r = train_config_set_value(c, key, val, err, errlen);
    json_decref(val);
    return r;
}

// Defaults, then `layers` merged in order (later wins), applying "act" before everything else.
static int resolve(json_t *merged, train_config *c, char *err, size_t errlen) {
    train_config_default(c);
    json_t *act = json_object_get(merged, "act");
    if (act && apply_key(c, "act", act, err, errlen)) return -1;
    const char *key;
    json_t *v;
    json_object_foreach(merged, key, v) {
        if (strcmp(key, "act") && apply_key(c, key, v, err, errlen)) return -1;
    }
    return 0;
}

static int check_object(spec_ctx *s, json_t *v, const char *what) {
    if (v && !json_is_object(v)) return err_set(s->err, s->errlen, "%s: expected a JSON object", what);
    return 0;
}

// Each key of obj applied alone to a scratch config on top of `under` (the base), so a mistake is
// reported where it was written.
static int validate_layer(spec_ctx *s, json_t *under, json_t *obj, const char *what) {
    json_t *m = under ? json_deep_copy(under) : json_object();
    json_object_update(m, obj);
    train_config c;
    char inner[400];
    int r = resolve(m, &c, inner, sizeof inner);
    json_decref(m);
    if (r) return err_set(s->err, s->errlen, "%s: %s", what, inner);
    return 0;
}

static int validate_top(spec_ctx *s, json_t *root) {
    static const char *ALLOWED[] = {"version", "name", "description", "base", "sizes", "experiments"};
    const char *key;
    json_t *v;
    json_object_foreach(root, key, v) {
        size_t i = 0;
        while (i < sizeof ALLOWED / sizeof *ALLOWED && strcmp(key, ALLOWED[i])) i++;
        if (i == sizeof ALLOWED / sizeof *ALLOWED)
            return err_set(s->err, s->errlen, "unknown top-level key '%s' (expected version, name, description, base, sizes, "
                        "experiments)", key);
    }
    json_t *ver = json_object_get(root, "version");
    if (!json_is_integer(ver) || json_integer_value(ver) != 1) return err_set(s->err, s->errlen, "\"version\" must be the integer 1");
    json_t *name = json_object_get(root, "name");
    if (name && (!json_is_string(name) || !json_string_length(name) || json_string_length(name) >= SWEEP_NAME))
        return err_set(s->err, s->errlen, "\"name\" must be a non-empty string shorter than %d characters", SWEEP_NAME);
    if (check_object(s, s->base, "\"base\"") || check_object(s, s->sizes, "\"sizes\"")) return -1;
    if (s->base && validate_layer(s, NULL, s->base, "base")) return -1;
    json_object_foreach(s->sizes, key, v) {
        char what[160];
        snprintf(what, sizeof what, "sizes.%s", key);
        if (check_object(s, v, what) || validate_layer(s, s->base, v, what)) return -1;
    }
    if (!json_is_array(s->experiments) || !json_array_size(s->experiments))
        return err_set(s->err, s->errlen, "\"experiments\" must be a non-empty array of {\"id\", \"grid\", \"set\"} objects");
    return 0;
}

static int validate_grid(spec_ctx *s, const char *id, json_t *grid) {
    if (!json_is_object(grid) || !json_object_size(grid))
        return err_set(s->err, s->errlen, "experiment '%s': \"grid\" must be a non-empty object of key -> array of values", id);
    const char *key;
    json_t *vals;
    json_object_foreach(grid, key, vals) {
        if (!json_is_array(vals) || !json_array_size(vals))
            return err_set(s->err, s->errlen, "experiment '%s': grid key '%s' must map to a non-empty array of values", id, key);
        size_t i;
        json_t *x;
        json_array_foreach(vals, i, x) {
            if (json_is_object(x) || json_is_array(x) || json_is_null(x))
                return err_set(s->err, s->errlen, "experiment '%s': grid key '%s': value %zu must be a string, number or boolean", id,
                            key, i);
            if (!strcmp(key, "size") && (!json_is_string(x) || !json_object_get(s->sizes, json_string_value(x)))) {
                char *t = jtext(x);
                int r = err_set(s->err, s->errlen, "experiment '%s': unknown size %s (define it under \"sizes\")", id, t);
                free(t);
                return r;
            }
        }
    }
    return 0;
}

static int validate_experiment(spec_ctx *s, size_t idx) {
    json_t *e = json_array_get(s->experiments, idx);
    if (!json_is_object(e)) return err_set(s->err, s->errlen, "experiments[%zu]: expected an object with \"id\" and \"grid\"", idx);
    json_t *id = json_object_get(e, "id");
    if (!json_is_string(id) || !json_string_length(id) || json_string_length(id) > 32)
        return err_set(s->err, s->errlen, "experiments[%zu]: \"id\" must be a non-empty string of at most 32 characters", idx);
    const char *ids = json_string_value(id);
    for (size_t j = 0; j < idx; j++)
        if (!strcmp(ids, json_string_value(json_object_get(json_array_get(s->experiments, j), "id"))))
            return err_set(s->err, s->errlen, "duplicate experiment id '%s' (experiments[%zu] and [%zu])", ids, j, idx);
    const char *key;
    json_t *v;
    json_object_foreach(e, key, v) {
        if (strcmp(key, "id") && strcmp(key, "grid") && strcmp(key, "set") && strcmp(key, "description"))
            return err_set(s->err, s->errlen, "experiment '%s': unknown key '%s' (expected id, grid, set, description)", ids, key);
    }
    json_t *set = json_object_get(e, "set");
    char what[80];
    snprintf(what, sizeof what, "experiment '%s': \"set\"", ids);
    if (check_object(s, set, what)) return -1;
    return validate_grid(s, ids, json_object_get(e, "grid"));
}

static void sanitize_append(char *out, size_t len, const char *piece) {
    size_t n = strlen(out);
    for (const char *p = piece; *p && n + 1 < len; p++, n++) {
        char ch = *p;
        out[n] = (islower((unsigned char)ch) || isdigit((unsigned char)ch) || ch == '.' || ch == '_' || ch == '-')
                     ? ch : '_';
    }
    out[n] = 0;
}

void sweep_run_name(const char *exp_id, const char *coords_json, char *out, size_t len) {
    char id[64];
    size_t i = 0;
    for (; exp_id[i] && i + 1 < sizeof id; i++) id[i] = (char)tolower((unsigned char)exp_id[i]);
    id[i] = 0;
    out[0] = 0;
    sanitize_append(out, len, id);
    json_t *coords = json_loads(coords_json, 0, NULL);
    const char *key;
    json_t *v;
    json_object_foreach(coords, key, v) {
        char piece[160];
        if (json_is_string(v)) snprintf(piece, sizeof piece, "%s", json_string_value(v));
        else if (json_is_integer(v)) snprintf(piece, sizeof piece, "%s%lld", key, (long long)json_integer_value(v));
        else if (json_is_real(v)) {
            char num[40];
            fmt_shortest(num, sizeof num, json_real_value(v), 0);
            snprintf(piece, sizeof piece, "%s%s", key, num);
        } else snprintf(piece, sizeof piece, "%s%s", key, json_is_true(v) ? "true" : "false");
        sanitize_append(out, len, "-");
        sanitize_append(out, len, piece);
    }
    json_decref(coords);
}

typedef struct {
    sweep_plan *p;
    char **keys;  // train_config_identity of each run, parallel to p->runs
    int cap;
} plan_builder;

static void add_experiment_to(sweep_entry *r, const char *id) {
    for (int i = 0; i < r->n_experiments; i++)
        if (!strcmp(r->experiments[i], id)) return;
    r->experiments = realloc(r->experiments, (size_t)(r->n_experiments + 1) * sizeof *r->experiments);
    if (!r->experiments) die(NULL, "out of memory");
    r->experiments[r->n_experiments++] = strdup(id);
}

static void unique_name(const sweep_plan *p, const char *want, char *out, size_t len) {
    snprintf(out, len, "%s", want);
    for (int n = 2;; n++) {
        int clash = 0;
        for (int i = 0; i < p->n_runs && !clash; i++) clash = !strcmp(p->runs[i].name, out);
        if (!clash) return;
        snprintf(out, len, "%.*s-%d", (int)len - 16, want, n);
    }
}

// One grid point: resolve, check, and add it to the plan (or to the run it duplicates).
static int add_point(spec_ctx *s, plan_builder *b, const char *id, json_t *set, json_t *coords) {
    json_t *m = s->base ? json_deep_copy(s->base) : json_object();
    json_t *size = json_object_get(coords, "size");
    if (size) json_object_update(m, json_object_get(s->sizes, json_string_value(size)));
    if (set) json_object_update(m, set);
    const char *key;
    json_t *v;
    json_object_foreach(coords, key, v) {
        if (strcmp(key, "size")) json_object_set(m, key, v);
    }
    char *ctext = jtext(coords), inner[400], buf[400];
    train_config c;
    int r = resolve(m, &c, inner, sizeof inner);
    json_decref(m);
    if (!r) {
        snprintf(c.out_dir, sizeof c.out_dir, "runs/x");
        train_config_resolve(&c);
        const char *why = train_config_check(&c, buf, sizeof buf);
        if (why) snprintf(inner, sizeof inner, "%s", why), r = -1;
    }
    if (r) {
        err_set(s->err, s->errlen, "experiment '%s', grid point %s: %s", id, ctext, inner);
        free(ctext);
        return -1;
    }
    c.out_dir[0] = 0;
    char *k = train_config_identity(&c);
    sweep_plan *p = b->p;
    for (int i = 0; i < p->n_runs; i++)
        if (!strcmp(b->keys[i], k)) {
            add_experiment_to(&p->runs[i], id);
            free(k);
            free(ctext);
            return 0;
        }
    if (p->n_runs == b->cap) {
        b->cap = b->cap ? 2 * b->cap : 16;
        p->runs = realloc(p->runs, (size_t)b->cap * sizeof *p->runs);
        b->keys = realloc(b->keys, (size_t)b->cap * sizeof *b->keys);
        if (!p->runs || !b->keys) die(NULL, "out of memory");
    }
    sweep_entry *e = &p->runs[p->n_runs];
    memset(e, 0, sizeof *e);
    char want[SWEEP_NAME];
    sweep_run_name(id, ctext, want, sizeof want);
    unique_name(p, want, e->name, sizeof e->name);
    e->coords_json = ctext;
    e->cfg = c;
    add_experiment_to(e, id);
    b->keys[p->n_runs++] = k;
    return 0;
}

// Cartesian product in the grid's key order, the last key varying fastest.
static int expand(spec_ctx *s, plan_builder *b, json_t *e) {
    const char *id = json_string_value(json_object_get(e, "id"));
    json_t *grid = json_object_get(e, "grid"), *set = json_object_get(e, "set");
    size_t nk = json_object_size(grid);
    const char **keys = xmalloc(nk * sizeof *keys);
    json_t **vals = xmalloc(nk * sizeof *vals);
    size_t *at = xcalloc(nk, sizeof *at), k = 0;
    const char *key;
    json_t *v;
    json_object_foreach(grid, key, v) keys[k] = key, vals[k++] = v;
    int r = 0;
    for (int more = 1; more && !r;) {
        json_t *coords = json_object();
        for (k = 0; k < nk; k++) json_object_set(coords, keys[k], json_array_get(vals[k], at[k]));
        r = add_point(s, b, id, set, coords);
        json_decref(coords);
        more = 0;
        for (size_t d = nk; d-- > 0;) {
            if (++at[d] < json_array_size(vals[d])) { more = 1; break; }
            at[d] = 0;
        }
    }
    free(keys);
    free(vals);
    free(at);
    return r;
}

int sweep_plan_load(sweep_plan *p, const char *spec_text, size_t len, char *err, size_t errlen) {
    memset(p, 0, sizeof *p);
    json_error_t je;
    json_t *root = json_loadb(spec_text, len, JSON_REJECT_DUPLICATES, &je);
    if (!root) {
        snprintf(err, errlen, "malformed JSON at line %d column %d: %s", je.line, je.column, je.text);
        return -1;
    }
    spec_ctx s = {json_object_get(root, "base"), json_object_get(root, "sizes"), json_object_get(root, "experiments"),
                  err, errlen};
    plan_builder b = {p, NULL, 0};
    int r = json_is_object(root) ? validate_top(&s, root) : err_set(s.err, s.errlen, "the spec must be a JSON object");
    for (size_t i = 0; !r && i < json_array_size(s.experiments); i++) r = validate_experiment(&s, i);
    for (size_t i = 0; !r && i < json_array_size(s.experiments); i++) r = expand(&s, &b, json_array_get(s.experiments, i));
    if (!r) {
        json_t *name = json_object_get(root, "name");
        snprintf(p->name, sizeof p->name, "%s", name ? json_string_value(name) : "sweep");
        p->spec_hash = fnv1a64(FNV1A64_OFFSET, spec_text, len);
    }
    for (int i = 0; i < p->n_runs; i++) free(b.keys[i]);
    free(b.keys);
    json_decref(root);
    if (r) sweep_plan_free(p);
    return r;
}

void sweep_plan_free(sweep_plan *p) {
    for (int i = 0; i < p->n_runs; i++) {
        for (int j = 0; j < p->runs[i].n_experiments; j++) free(p->runs[i].experiments[j]);
        free(p->runs[i].experiments);
        free(p->runs[i].coords_json);
    }
    free(p->runs);
    memset(p, 0, sizeof *p);
}

char *sweep_plan_to_json(const sweep_plan *p) {
    json_t *root = json_object(), *runs = json_array();
    char hash[24];
    snprintf(hash, sizeof hash, "%016llx", (unsigned long long)p->spec_hash);
    json_object_set_new(root, "version", json_integer(1));
    json_object_set_new(root, "name", json_string(p->name));
    json_object_set_new(root, "spec_hash", json_string(hash));
    for (int i = 0; i < p->n_runs; i++) {
        const sweep_entry *e = &p->runs[i];
        json_t *r = json_object(), *ex = json_array();
        char dir[SWEEP_NAME + 8];
        snprintf(dir, sizeof dir, "runs/%s", e->name);
        for (int j = 0; j < e->n_experiments; j++) json_array_append_new(ex, json_string(e->experiments[j]));
        json_object_set_new(r, "name", json_string(e->name));
        json_object_set_new(r, "dir", json_string(dir));
        json_object_set_new(r, "experiments", ex);
        json_object_set_new(r, "coords", json_loads(e->coords_json, 0, NULL));
        json_object_set_new(r, "steps", json_integer(e->cfg.steps));
        json_array_append_new(runs, r);
    }
    json_object_set_new(root, "runs", runs);
    char *s = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(root);
    size_t n = strlen(s);
    char *out = xmalloc(n + 2);
    memcpy(out, s, n);
    memcpy(out + n, "\n", 2);
    free(s);
    return out;
}
