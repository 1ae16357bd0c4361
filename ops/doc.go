// Package ops is Switchboard's operations interface: a small HTTP server
// (loopback by default) with a JSON API for calls, registrations, reload
// and drain, and Prometheus metrics at /metrics.
//
//	operator / sbctl / Prometheus
//	        │ HTTP, Authorization: Bearer TOKEN
//	        ▼
//	   ops.Server ──► auth (constant-time token check)
//	        │
//	        ├─ /api/v1/calls, /api/v1/calls/{id} ──► Switch.Calls / Hangup
//	        ├─ /api/v1/registrations            ──► Switch.Registrations
//	        ├─ /api/v1/status                   ──► Switch.Stats
//	        ├─ /api/v1/reload, /api/v1/drain    ──► Options.Reload / Drain
//	        └─ /metrics ──► Metrics (own registry): gauges read from
//	                        Switch.Stats at scrape time; counters and
//	                        histograms fed once per call from its record
//	                        (Switch.ObserveRecords), never per packet.
//
// The API is described in openapi.yaml beside this file. It depends on the
// switch only through the small Switch interface, so tests drive it with a
// real b2bua.Server or a fake.
package ops
