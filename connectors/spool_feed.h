/* Spool feed: moves events from a source's spool into one trigger.
 *
 * Each trigger on a push source has a feed with its own spool reader (named after the trigger).
 * The feed reads durable records in order, turns each back into an event (an event stored without
 * an id gets "<source>:<seq>", the same on every redelivery), and offers it to the trigger. When
 * the trigger is full the feed holds the refused event and waits for resume. The trigger's commit
 * lands here and becomes the reader's checkpoint: after a crash, reading resumes after the last
 * committed event, so what was in flight is delivered again and nothing acknowledged is lost.
 */
#ifndef SL_SPOOL_FEED_H
#define SL_SPOOL_FEED_H

struct sl_source;
struct sl_feed;

/* Open a reader named `reader_name` on src's spool. The feed (struct sl_feed, connector.h) is
 * idle until attached; attach reads whatever is already durable, pump reads and offers new
 * records until the trigger is full, stop ends offering (what was not committed is redelivered
 * next start), status reports the records not yet read. */
int sl_spool_feed_new(struct sl_source *src, const char *reader_name, struct sl_feed **out);

#endif
