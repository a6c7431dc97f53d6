-- wrk script for bench/http_ab.py's reference endpoint: an empty POST /floor.
wrk.method = "POST"
wrk.headers["X-Forwarded-Proto"] = "https"
