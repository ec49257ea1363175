// The Node.js function of the warm-invoke benchmark: an ordinary handler, run by aws-lambda-ric.
exports.handler = async (event) => ({ ok: true, events: Array.isArray(event) ? event.length : 0 });
