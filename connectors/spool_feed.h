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
struct sl_trigger;
struct sl_trigger_source;
struct sl_spool_feed;

/* Open a reader named `reader_name` on src's spool. The feed is idle until attached. */
int sl_spool_feed_new(struct sl_source *src, const char *reader_name, struct sl_spool_feed **out);
/* The callbacks to give sl_trigger_new (commit/resume land in this feed). */
void sl_spool_feed_callbacks(struct sl_spool_feed *feed, struct sl_trigger_source *out);
/* Start feeding `trigger`; reads whatever is already durable. */
void sl_spool_feed_attach(struct sl_spool_feed *feed, struct sl_trigger *trigger);
/* New durable records may be there: read and offer until the trigger is full. */
void sl_spool_feed_pump(struct sl_spool_feed *feed);
/* Stop offering (shutdown); what was not committed is redelivered next start. */
void sl_spool_feed_stop(struct sl_spool_feed *feed);
void sl_spool_feed_free(struct sl_spool_feed *feed);

#endif
