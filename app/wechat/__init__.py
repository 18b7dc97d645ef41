"""The WeChat gateway: verify, decrypt, parse, dedupe, reply rendering, the API client and the offline fake."""
