// cmd_curve.c — `actlab curve`: an activation's elementwise curve and derivative as CSV, or a
// gnuplot figure comparing several (the figure the PowLU paper opens with).
#include "actlab.h"
#include "args.h"
#include "commands.h"
#include "util/check.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_CURVES 16

static void curve_help(void) {
    printf("usage: actlab curve NAME [--from X0] [--to X1] [--points N] [--HYPER VALUE ...]\n"
           "       actlab curve --plot NAME [NAME ...] [--out FILE.png|FILE.svg] [same options]\n\n"
           "Prints CSV 'x,f,dfdx' with full float precision: for gated activations the gate g(z) and g'(z),\n"
           "for non-gated elementwise ones act(x) and act'(x). PolyReLU uses its initial weights (1/3, 1/3,\n"
           "1/3, bias 0). PolyNorm normalises whole rows, so it has no elementwise curve.\n\n"
           "options:\n"
           "  --from X0       first x (default -6)\n"
           "  --to X1         last x (default 6)\n"
           "  --points N      number of points, >= 2 (default 241)\n"
           "  --plot          draw the curves (left: value, right: derivative) with gnuplot\n"
           "  --out FILE      plot file, .png or .svg (default curves.png)\n"
           "  --m M           PowLU's m (default 3)\n"
           "  --limit L       SwiGLU-Clip's clamp limit (default 7)\n"
           "  --alpha A       SwiGLU-Clip's sigmoid slope (default 1.702)\n\n"
           "example: actlab curve --plot swiglu powlu swiglu_clip --from -4 --to 14 --out gates.png\n");
}

typedef struct {
    act_spec spec[MAX_CURVES];
    int n;
    double from, to;
    long points;
    int plot;
    const char *out;
} curve_opts;

// A hyperparameter flag applies to every named activation that has it; if none has it, it is an error.
static void apply_hyper(curve_opts *o, const char *name, double v) {
    int used = 0;
    for (int i = 0; i < o->n; i++) {
        int rc = act_spec_set(&o->spec[i], name, (float)v);
        if (rc == -2) {
            const act_desc *d = act_desc_of(o->spec[i].kind);
            usage_error("curve", "--%s %g is outside the accepted range of %s", name, v, d->name);
        }
        used |= rc == 0;
    }
    if (!used) usage_error("curve", "unknown option --%s for the activations given", name);
}

static void parse(curve_opts *o, int argc, char **argv) {
    const char *hyper_names[8];
    double hyper_vals[8];
    int nh = 0;
    o->from = -6, o->to = 6, o->points = 241, o->out = "curves.png";
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (arg_is_help(a)) { curve_help(); exit(0); }
        if (!strcmp(a, "--from")) o->from = arg_double("curve", a, arg_value("curve", argc, argv, &i));
        else if (!strcmp(a, "--to")) o->to = arg_double("curve", a, arg_value("curve", argc, argv, &i));
        else if (!strcmp(a, "--points")) o->points = arg_long("curve", a, arg_value("curve", argc, argv, &i), 2, 10000000);
        else if (!strcmp(a, "--plot")) o->plot = 1;
        else if (!strcmp(a, "--out")) o->out = arg_value("curve", argc, argv, &i);
        else if (!strncmp(a, "--", 2)) {
            if (nh == 8) usage_error("curve", "too many hyperparameter options");
            hyper_names[nh] = a + 2;
            hyper_vals[nh++] = arg_double("curve", a, arg_value("curve", argc, argv, &i));
        } else {
            if (o->n == MAX_CURVES) usage_error("curve", "at most %d activations", MAX_CURVES);
            if (act_spec_init(&o->spec[o->n], a)) usage_error("curve", "unknown activation '%s'", a);
            if (act_desc_of(o->spec[o->n].kind)->rowwise)
                usage_error("curve", "%s normalises whole rows and has no elementwise curve", a);
            o->n++;
        }
    }
    if (o->n == 0) usage_error("curve", "name an activation (actlab --help lists them)");
    if (!o->plot && o->n > 1) usage_error("curve", "CSV output takes one activation; use --plot for several");
    if (!(o->to > o->from)) usage_error("curve", "--to must be greater than --from");
    for (int h = 0; h < nh; h++) apply_hyper(o, hyper_names[h], hyper_vals[h]);
}

// xs: (points); f, df: (n, points)
static void evaluate(const curve_opts *o, float *xs, float *f, float *df) {
    for (long i = 0; i < o->points; i++) xs[i] = (float)(o->from + (o->to - o->from) * (double)i / (double)(o->points - 1));
    for (int c = 0; c < o->n; c++) {
        float params[ACT_MAX_PARAMS];
        act_params_init(o->spec[c].kind, params);
        act_curve(&o->spec[c], params, (size_t)o->points, xs, f + c * o->points, df + c * o->points);
    }
}

static int plot(const curve_opts *o, const float *xs, const float *f, const float *df) {
    char data[] = "/tmp/actlab-curve-XXXXXX";
    int fd = mkstemp(data);
    if (fd < 0) die(NULL, "cannot create a temporary file for gnuplot data");
    FILE *d = fdopen(fd, "w");
    for (long i = 0; i < o->points; i++) {
        fprintf(d, "%.9g", xs[i]);
        for (int c = 0; c < o->n; c++) fprintf(d, " %.9g %.9g", f[c * o->points + i], df[c * o->points + i]);
        fputc('\n', d);
    }
    xfclose(d, data);
    const char *ext = strrchr(o->out, '.');
    int svg = ext && !strcmp(ext, ".svg");
    if (!svg && !(ext && !strcmp(ext, ".png"))) usage_error("curve", "--out must end in .png or .svg");
    FILE *g = popen("gnuplot", "w");
    if (!g) die("install gnuplot (scripts/setup.sh)", "cannot start gnuplot");
    fprintf(g, "set terminal %s size 1200,480 font ',11'\nset output '%s'\n", svg ? "svg" : "pngcairo", o->out);
    fprintf(g, "set multiplot layout 1,2\nset grid\nset key top left\nset xlabel 'x (gate input z for gated)'\n");
    for (int panel = 0; panel < 2; panel++) {
        fprintf(g, "set title '%s'\nplot ", panel ? "derivative" : "value (gate g(z) for gated activations)");
        for (int c = 0; c < o->n; c++) {
            const act_desc *ds = act_desc_of(o->spec[c].kind);
            char label[64];
            if (ds->n_hyper == 1) snprintf(label, sizeof label, "%s (%s=%g)", ds->name, ds->hyper[0].name, o->spec[c].hp[0]);
            else snprintf(label, sizeof label, "%s", ds->name);
            fprintf(g, "%s'%s' using 1:%d with lines lw 2 title '%s' noenhanced", c ? ", " : "", data, 2 + 2 * c + panel, label);
        }
        fputc('\n', g);
    }
    fprintf(g, "unset multiplot\n");
    int rc = pclose(g);
    unlink(data);
    if (rc != 0) die("is gnuplot installed with the cairo terminals? (scripts/setup.sh)", "gnuplot failed (status %d)", rc);
    fprintf(stderr, "wrote %s\n", o->out);
    return 0;
}

int cmd_curve(int argc, char **argv) {
    curve_opts o;
    memset(&o, 0, sizeof o);
    parse(&o, argc, argv);
    float *xs = xmalloc((size_t)o.points * sizeof(float));
    float *f = xmalloc((size_t)o.points * o.n * sizeof(float)), *df = xmalloc((size_t)o.points * o.n * sizeof(float));
    evaluate(&o, xs, f, df);
    int rc = 0;
    if (o.plot) rc = plot(&o, xs, f, df);
    else {
        printf("x,f,dfdx\n");
        for (long i = 0; i < o.points; i++) printf("%.9g,%.9g,%.9g\n", xs[i], f[i], df[i]);
    }
    free(xs);
    free(f);
    free(df);
    return rc;
}
