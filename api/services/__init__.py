"""Service functions: plain commands in, the allocation core and the stock adapter called,
domain errors out. They know nothing of HTTP."""
