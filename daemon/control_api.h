/* The control API on Lambda's 2015-03-31 paths, so existing SDKs and CLIs can talk to Sluice:
 *   GET  /2015-03-31/functions                      ListFunctions
 *   POST /2015-03-31/functions/{name}/invocations   Invoke (RequestResponse and DryRun; with
 *                                                   X-Amz-Log-Type: Tail, X-Amz-Log-Result
 *                                                   carries the base64 of the last 4 KB of log)
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

/* Serve the API on srv. cfg, ex and srv must outlive the returned object. */
struct sl_control_api *sl_control_api_new(struct sl_http_server *srv, const struct sl_config *cfg,
					  struct sl_executor *ex);
void sl_control_api_free(struct sl_control_api *api);

#endif
