// Package phone is Switchboard's browser phone: a page served at /phone/
// on the ws:// and wss:// listeners (b2bua/websocket.go) that registers
// over SIP over WebSocket with JsSIP and places and answers WebRTC calls.
//
//	static/index.html, static/phone.js   the phone (committed)
//	static/jssip.min.js                  JsSIP from npm (package.json, pinned in
//	                                     package-lock.json), bundled by `make deps`
//	driver.cjs                           the puppeteer-core driver of the
//	                                     end-to-end tests (test/phone_e2e_test.go)
//
// Everything the page loads comes from Switchboard itself: no CDN.
// static/jssip.min.js is not committed; a binary built before `make deps`
// serves a page that says so.
package phone

import (
	"embed"
	"encoding/json"
	"io/fs"
	"net/http"
)

//go:embed static
var static embed.FS

// QualityFunc returns the live call with a SIP Call-ID (either leg's) as
// JSON-encodable state and quality, false when no such call runs.
type QualityFunc func(callID string) (any, bool)

// Options configure the phone's handler.
type Options struct {
	// Domain is the SIP domain users register in (sip.domain).
	Domain string
	// WSPath is the path of the SIP WebSocket on the same server
	// (websocket.path).
	WSPath string
	// Quality looks live calls up for /phone/quality.
	Quality QualityFunc
}

// Handler serves the phone under /phone/: the static files,
// /phone/config.json (the SIP domain and WebSocket path the page uses), and
// /phone/quality?call_id=ID, the call's live quality (MOS, loss, jitter per
// leg). The Call-ID is random and known only to the call's parties, which
// is what makes it the key.
func Handler(o Options) http.Handler {
	sub, err := fs.Sub(static, "static")
	if err != nil {
		panic(err) // the embedded tree always has static/
	}
	mux := http.NewServeMux()
	files := http.StripPrefix("/phone/", http.FileServerFS(sub))
	mux.Handle("/phone/", securityHeaders(files))
	mux.HandleFunc("/phone/config.json", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		_ = json.NewEncoder(w).Encode(map[string]string{"domain": o.Domain, "ws_path": o.WSPath})
	})
	mux.HandleFunc("/phone/quality", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		v, ok := o.Quality(r.URL.Query().Get("call_id"))
		if !ok {
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write([]byte(`{"error":"no such call"}` + "\n"))
			return
		}
		_ = json.NewEncoder(w).Encode(v)
	})
	return mux
}

// securityHeaders keeps the page to its own origin's scripts and
// connections (ws: and wss: to the same host).
func securityHeaders(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", "default-src 'self'; connect-src 'self' ws: wss:; media-src 'self' blob: mediastream:; style-src 'self' 'unsafe-inline'")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Cache-Control", "no-cache")
		h.ServeHTTP(w, r)
	})
}

// HasJsSIP reports whether the JsSIP bundle was built into the binary
// (`make deps` before `go build`).
func HasJsSIP() bool {
	_, err := fs.Stat(static, "static/jssip.min.js")
	return err == nil
}
