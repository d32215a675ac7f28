/* damping: notices a backend's controller oscillating and damps its gain.
 *
 * The backend's moves (changes of its weight as a share of the total) add
 * up to a path; a reversal is
 * the path turning back by at least DAMPING_MIN_SWING from its last extreme
 * (so noise below that is not one), and its swing is the distance between
 * the last two extremes. An oscillation is DAMPING_FLIPS reversals in a row
 * whose swings do not shrink. Each one found halves the backend's gain (down to an
 * eighth), and while the swings go on each further one halves it again; the
 * gain grows back slowly (about 100 control steps) while the moves stay calm. Pure; the
 * memory lives in the backend's controller state. */
#ifndef WD_DAMPING_H
#define WD_DAMPING_H

#include <stdbool.h>

/* A swing smaller than this share of the total (3 points of 100) is noise. */
#define DAMPING_MIN_SWING 0.03
/* A reversal whose swing is at least this share of the last one sustains the oscillation. */
#define DAMPING_SUSTAIN 0.7
/* Sustained reversals in a row that make an oscillation. */
#define DAMPING_FLIPS 3
#define DAMPING_MIN_GAIN 0.125

struct wd_damping {
	double pos;       /* the moves summed (the path) */
	double ext;       /* the path's extreme in the current direction */
	double last_ext;  /* the extreme before it */
	int trend;        /* the direction: +1, -1, or 0 before the first swing */
	double amp;       /* the last swing (0: none yet) */
	int flips;        /* sustained reversals in a row */
	double gain;      /* the factor on the controller's move; 0 means 1 (fresh state) */
	unsigned count;   /* oscillations found since the state was created */
};

/* The factor to apply to this tick's move. */
double damping_gain(const struct wd_damping *d);

/* Records one tick's move (the change of the weight's share); scale is the
 * tick's share of a control step (delay.h), so the gain grows back at the
 * same wall-clock pace whatever the tick. Returns true when this move
 * completed an oscillation (the gain was just lowered). */
bool damping_feed(struct wd_damping *d, double move, double scale);

#endif
