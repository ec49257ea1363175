/* The control API on Lambda's 2015-03-31 paths, so existing SDKs and CLIs can talk to Sluice:
 *   GET  /2015-03-31/functions                      ListFunctions
 *   POST /2015-03-31/functions/{name}/invocations   Invoke (RequestResponse and DryRun; with
 *                                                   X-Amz-Log-Type: Tail, X-Amz-Log-Result
 *                                                   carries the base64 of the last 4 KB of log;
 *                                                   Event: queued in the function's async
 *                                                   queue, 202 once durable, with
 *                                                   {"accepted":1,"ids":[ID]})
 * Function errors answer 200 with X-Amz-Function-Error: Unhandled and the error JSON, as Lambda
 * does; request errors use Lambda's exception names (ResourceNotFoundException 404,
 * InvalidRequestContentException 400, RequestEntityTooLargeException 413,
 * TooManyRequestsException 429).
 */
#ifndef SL_CONTROL_API_H
#define SL_CONTROL_API_H

struct sl_config;
struct sl_control_api;
struct sl_executor;
struct sl_http_server;
struct sl_source;

/* The async queue (async_queue.h) of a function, or NULL. */
typedef struct sl_source *(*sl_async_queue_lookup)(void *arg, const char *function);

/* Serve the API on srv. cfg, ex, srv and what the lookup reaches must outlive the returned
 * object. */
struct sl_control_api *sl_control_api_new(struct sl_http_server *srv, const struct sl_config *cfg,
					  struct sl_executor *ex, sl_async_queue_lookup queues,
					  void *queues_arg);
void sl_control_api_free(struct sl_control_api *api);

#endif
