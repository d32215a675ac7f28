/* damping: oscillation detection and gain damping (see damping.h). */
#include "damping.h"

#include <math.h>

/* Control steps for the gain to win back about two thirds of its loss. */
#define DAMPING_RECOVER_STEPS 100.0

double damping_gain(const struct wd_damping *d)
{
	return d->gain > 0 && d->gain <= 1 ? d->gain : 1.0;
}

bool damping_feed(struct wd_damping *d, double move, double scale)
{
	double gain = damping_gain(d);
	bool found = false;
	if (isfinite(move))
		d->pos += move;
	if (d->trend == 0) {
		if (fabs(d->pos - d->ext) >= DAMPING_MIN_SWING) {
			d->trend = d->pos > d->ext ? 1 : -1;
			d->last_ext = d->ext;
			d->ext = d->pos;
		}
	} else if (d->trend > 0 ? d->pos > d->ext : d->pos < d->ext) {
		d->ext = d->pos;
	} else if (fabs(d->pos - d->ext) >= DAMPING_MIN_SWING) {
		double swing = fabs(d->ext - d->last_ext);
		if (d->amp > 0 && swing >= DAMPING_SUSTAIN * d->amp)
			d->flips++;
		else
			d->flips = 0;
		d->amp = swing;
		d->last_ext = d->ext;
		d->ext = d->pos;
		d->trend = -d->trend;
		if (d->flips >= DAMPING_FLIPS - 1) { /* the first reversal has no swing to compare */
			gain = fmax(gain / 2, DAMPING_MIN_GAIN);
			d->flips = DAMPING_FLIPS - 2; /* one more sustained swing damps again */
			d->count++;
			found = true;
		}
	}
	if (!found)
		gain += (1 - gain) * (1 - exp(-scale / DAMPING_RECOVER_STEPS));
	d->gain = gain;
	return found;
}
