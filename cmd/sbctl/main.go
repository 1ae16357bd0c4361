// Command sbctl drives a running Switchboard through its operations API
// and probes any SIP server.
//
//	sbctl calls                      list the calls in progress
//	sbctl call ID                    one call, with its live quality
//	sbctl hangup ID                  end a call (BYE / CANCEL both legs)
//	sbctl record ID start|stop       start or stop recording a call
//	sbctl registrations              list registration bindings
//	sbctl status                     counters and version
//	sbctl trunks                     each trunk's health (up, down, unchecked)
//	sbctl reload                     reload the configuration (as SIGHUP)
//	sbctl drain                      stop new calls and drain (as SIGTERM)
//	sbctl ping sip:HOST[:PORT]       SIP OPTIONS round trip, with timing
//	sbctl register sip:USER@HOST[:PORT]  REGISTER with digest (-user, -password or SB_PASSWORD), then unregister
//	sbctl testcall sip:NUMBER@HOST[:PORT]  call, send a tone (-tone, -duration), report what came back
//
// The SIP probes go over -transport udp, tcp, tls, ws or wss (RFC 7118;
// -ws-path, default /ws; -tls-ca FILE to trust a private CA such as
// Switchboard's generated certificate, <state.dir>/tls.crt).
//
// The API address comes from -api or SB_API (default
// http://127.0.0.1:8080), the token from -token, SB_API_TOKEN or
// -token-file (e.g. var/state/api_token).
package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("sbctl", flag.ContinueOnError)
	fs.SetOutput(stderr)
	api := fs.String("api", envOr("SB_API", "http://127.0.0.1:8080"), "Switchboard API base URL")
	token := fs.String("token", os.Getenv("SB_API_TOKEN"), "API bearer token")
	tokenFile := fs.String("token-file", "", "read the API token from this file (Switchboard's <state.dir>/api_token)")
	transport := fs.String("transport", "udp", "ping, register, call: udp, tcp, tls, ws or wss")
	fs.StringVar(&probeWSPath, "ws-path", probeWSPath, "ws/wss: the WebSocket path (Switchboard's websocket.path)")
	tlsCA := fs.String("tls-ca", "", "PEM file of the CAs a TLS server's certificate must chain to (default the system roots)")
	tlsInsecure := fs.Bool("tls-insecure", false, "accept any TLS server certificate (testing only)")
	tone := fs.Float64("tone", 1000, "call: the tone sent, in Hz")
	seconds := fs.Duration("duration", 3*time.Second, "call: how long the tone is sent")
	count := fs.Int("count", 3, "ping: OPTIONS requests to send")
	timeout := fs.Duration("timeout", 5*time.Second, "time allowed per request")
	authUser := fs.String("user", "", "register, testcall: digest user name (default the URI's user)")
	password := fs.String("password", os.Getenv("SB_PASSWORD"), "register, testcall: digest password (or SB_PASSWORD)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: sbctl [flags] calls | call ID | hangup ID | record ID start|stop | registrations | status | trunks | reload | drain | ping sip:HOST[:PORT] | register sip:USER@HOST[:PORT] | testcall sip:NUMBER@HOST[:PORT]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return 2
	}
	if *tokenFile != "" {
		b, err := os.ReadFile(*tokenFile)
		if err != nil {
			fmt.Fprintln(stderr, "sbctl:", err)
			return 1
		}
		*token = strings.TrimSpace(string(b))
	}
	if *tlsCA != "" {
		pem, err := os.ReadFile(*tlsCA)
		if err != nil {
			fmt.Fprintln(stderr, "sbctl: -tls-ca:", err)
			return 1
		}
		probeTLS.RootCAs = x509.NewCertPool()
		if !probeTLS.RootCAs.AppendCertsFromPEM(pem) {
			fmt.Fprintln(stderr, "sbctl: -tls-ca: no PEM certificate in", *tlsCA)
			return 1
		}
	}
	probeTLS.InsecureSkipVerify = *tlsInsecure
	c := client{base: strings.TrimRight(*api, "/"), token: *token, http: &http.Client{Timeout: *timeout}}
	cmd, rest := fs.Arg(0), fs.Args()[1:]
	var err error
	switch {
	case cmd == "calls" && len(rest) == 0:
		err = c.show(stdout, http.MethodGet, "/api/v1/calls")
	case cmd == "call" && len(rest) == 1:
		err = c.show(stdout, http.MethodGet, "/api/v1/calls/"+rest[0])
	case cmd == "hangup" && len(rest) == 1:
		err = c.show(stdout, http.MethodDelete, "/api/v1/calls/"+rest[0])
		if err == nil {
			fmt.Fprintln(stdout, "hung up", rest[0])
		}
	case cmd == "record" && len(rest) == 2 && (rest[1] == "start" || rest[1] == "stop"):
		method := http.MethodPost
		if rest[1] == "stop" {
			method = http.MethodDelete
		}
		err = c.show(stdout, method, "/api/v1/calls/"+rest[0]+"/recording")
	case cmd == "registrations" && len(rest) == 0:
		err = c.show(stdout, http.MethodGet, "/api/v1/registrations")
	case cmd == "status" && len(rest) == 0:
		err = c.show(stdout, http.MethodGet, "/api/v1/status")
	case cmd == "trunks" && len(rest) == 0:
		err = c.trunks(stdout)
	case cmd == "reload" && len(rest) == 0:
		err = c.show(stdout, http.MethodPost, "/api/v1/reload")
	case cmd == "drain" && len(rest) == 0:
		err = c.show(stdout, http.MethodPost, "/api/v1/drain")
	case cmd == "ping" && len(rest) == 1:
		err = ping(stdout, rest[0], *transport, *count, *timeout)
	case cmd == "testcall" && len(rest) == 1:
		err = testCall(stdout, rest[0], callOptions{transport: *transport, user: *authUser, password: *password,
			tone: *tone, duration: *seconds, timeout: *timeout})
	case cmd == "register" && len(rest) == 1:
		err = register(stdout, rest[0], *transport, *authUser, *password, *timeout)
	default:
		fs.Usage()
		return 2
	}
	if err != nil {
		fmt.Fprintln(stderr, "sbctl:", err)
		return 1
	}
	return 0
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

// client calls the Switchboard API.
type client struct {
	base, token string
	http        *http.Client
}

// show sends the request and prints the JSON answer; a non-2xx answer is
// an error carrying the API's message.
func (c client) show(w io.Writer, method, path string) error {
	req, err := http.NewRequest(method, c.base+path, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	res, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, 16<<20))
	if err != nil {
		return err
	}
	if res.StatusCode/100 != 2 {
		var e struct{ Error string }
		if json.Unmarshal(body, &e) == nil && e.Error != "" {
			return fmt.Errorf("%s: %s", res.Status, e.Error)
		}
		return errors.New(res.Status)
	}
	_, err = w.Write(body)
	return err
}

// trunks prints each trunk's health from /api/v1/status, one per line,
// sorted by name.
func (c client) trunks(w io.Writer) error {
	var b strings.Builder
	if err := c.show(&b, http.MethodGet, "/api/v1/status"); err != nil {
		return err
	}
	var st struct {
		Trunks map[string]string `json:"trunks"`
	}
	if err := json.Unmarshal([]byte(b.String()), &st); err != nil {
		return fmt.Errorf("status: %w", err)
	}
	for _, name := range slices.Sorted(maps.Keys(st.Trunks)) {
		fmt.Fprintf(w, "%-20s %s\n", name, st.Trunks[name])
	}
	return nil
}

// ping sends count OPTIONS to target and prints each round trip; it fails
// when none is answered.
func ping(w io.Writer, target, transport string, count int, timeout time.Duration) error {
	uri, cl, closeUA, err := sipClient(target)
	if err != nil {
		return err
	}
	defer closeUA()
	answered := 0
	for i := range count {
		req := sip.NewRequest(sip.OPTIONS, uri)
		req.SetTransport(strings.ToUpper(transport))
		req.AppendHeader(sip.NewHeader("Accept", "application/sdp"))
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		start := time.Now()
		res, err := cl.Do(ctx, req)
		cancel()
		if err != nil {
			fmt.Fprintf(w, "OPTIONS %d to %s: no answer (%v)\n", i+1, target, err)
			continue
		}
		answered++
		fmt.Fprintf(w, "OPTIONS %d to %s: %d %s in %.1f ms\n", i+1, target, res.StatusCode, res.Reason, ms(time.Since(start)))
	}
	if answered == 0 {
		return fmt.Errorf("%s answered none of %d OPTIONS", target, count)
	}
	return nil
}

// register sends REGISTER for aor (answering a digest challenge with user
// and password), prints the outcome and timing, and removes the binding
// again (Expires: 0). It fails unless the REGISTER got 200.
func register(w io.Writer, aor, transport, user, password string, timeout time.Duration) error {
	uri, cl, closeUA, err := sipClient(aor)
	if err != nil {
		return err
	}
	defer closeUA()
	if user == "" {
		user = uri.User
	}
	registrar := sip.Uri{Scheme: uri.Scheme, Host: uri.Host, Port: uri.Port}
	send := func(expires string) (*sip.Response, time.Duration, error) {
		req := sip.NewRequest(sip.REGISTER, registrar)
		req.SetTransport(strings.ToUpper(transport))
		req.AppendHeader(&sip.ToHeader{Address: uri})
		from := sip.FromHeader{Address: uri, Params: sip.NewParams()}
		from.Params.Add("tag", sip.GenerateTagN(16))
		req.AppendHeader(&from)
		req.AppendHeader(sip.NewHeader("Contact", fmt.Sprintf("<sip:%s@127.0.0.1>", uri.User)))
		req.AppendHeader(sip.NewHeader("Expires", expires))
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		start := time.Now()
		res, err := cl.Do(ctx, req)
		if err == nil && (res.StatusCode == 401 || res.StatusCode == 407) {
			res, err = cl.DoDigestAuth(ctx, req, res, sipgo.DigestAuth{Username: user, Password: password})
		}
		return res, time.Since(start), err
	}
	res, took, err := send("60")
	if err != nil {
		return fmt.Errorf("REGISTER %s: no answer (%w)", aor, err)
	}
	fmt.Fprintf(w, "REGISTER %s as %s: %d %s in %.1f ms\n", aor, user, res.StatusCode, res.Reason, ms(took))
	if res.StatusCode != 200 {
		return fmt.Errorf("REGISTER %s refused: %d %s", aor, res.StatusCode, res.Reason)
	}
	if res, _, err := send("0"); err == nil {
		fmt.Fprintf(w, "unREGISTER: %d %s\n", res.StatusCode, res.Reason)
	}
	return nil
}

// probeTLS is the TLS client configuration of the SIP probes (-tls-ca,
// -tls-insecure): the system roots by default.
var probeTLS = &tls.Config{MinVersion: tls.VersionTLS12}

// probeWSPath is the HTTP path of a ws/wss probe's WebSocket (-ws-path).
var probeWSPath = "/ws"

// sipClient parses target and makes the SIP client the probes send with;
// closeUA releases it.
func sipClient(target string) (uri sip.Uri, cl *sipgo.Client, closeUA func(), err error) {
	if err := sip.ParseUri(target, &uri); err != nil {
		return uri, nil, nil, fmt.Errorf("address %q: %w", target, err)
	}
	path := "/" + strings.TrimPrefix(probeWSPath, "/")
	ws := &sip.TransportWS{DialURI: func(addr string) string { return "ws://" + addr + path }}
	wss := &sip.TransportWSS{TransportWS: &sip.TransportWS{DialURI: func(addr string) string { return "wss://" + addr + path }}}
	ua, err := sipgo.NewUA(sipgo.WithUserAgent("sbctl"), sipgo.WithUserAgenTLSConfig(probeTLS),
		sipgo.WithUserAgentTransportLayerOptions(sip.WithTransportLayerTransports(sip.TransportsConfig{WS: ws, WSS: wss})))
	if err != nil {
		return uri, nil, nil, err
	}
	if cl, err = sipgo.NewClient(ua); err != nil {
		ua.Close()
		return uri, nil, nil, err
	}
	return uri, cl, func() { ua.Close() }, nil
}

// ms is d in milliseconds, for printing.
func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
