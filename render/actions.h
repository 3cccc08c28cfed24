/*
 * Private to the renderers: the Recommendations of a report, derived
 * from its findings (render/headline.c).
 */
#ifndef CTPLAN_RENDER_ACTIONS_H
#define CTPLAN_RENDER_ACTIONS_H

#include <stddef.h>

#include <jansson.h>

/*
 * The actions of the critical, then warning, findings of root (their
 * "action"; findings without one only inform), each once, in order.  Fills out[] with pointers into the tree
 * (valid while the report is) and returns how many, at most max.
 */
size_t ctp_render_actions(json_t *root, const char **out, size_t max);

#endif
