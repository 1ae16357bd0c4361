package b2bua

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/switchboard/switchboard/cdr"
	"github.com/switchboard/switchboard/media"
	"github.com/switchboard/switchboard/mixer"
	"github.com/switchboard/switchboard/registrar"
)

// What a Call needs from the rest of Switchboard, declared here where it is
// used. A Call never sees *Server: it asks its host (policy, ids, listeners,
// registrations, the dialog table), sends through a sipSender, anchors
// media through a mediaPath and writes its one record to a recordSink.
// Server provides the first; the others wrap sipgo, media.Engine and
// cdr.Writer, and a test may replace any of them.

// requestStamp is what a Leg needs to build a request from scratch: our
// Via for the listener it leaves from and our User-Agent.
type requestStamp interface {
	newVia(transport string, laddr sip.Addr) *sip.ViaHeader
	agent() string
}

// callTable is the server's index of calls: the dialogs and the initial
// INVITE that lead to a call, and its slot under calls.max_calls.
type callTable interface {
	addDialog(key string, c *Call)
	addInvite(key string, c *Call)
	// releaseCall frees the call's slot once it has ended.
	releaseCall(c *Call)
	// removeCall forgets the call entirely once it is finished.
	removeCall(c *Call, keys []string)
	// dialogCall is the call one of the dialog keys leads to (Replaces).
	dialogCall(keys ...string) *Call
}

// callHost is what a Call needs of the server that runs it.
type callHost interface {
	requestStamp
	callTable
	// currentPolicy is the configuration in force (swapped by SIGHUP).
	currentPolicy() *policy
	newCallID() string
	// newTag is a fresh random tag (RFC 3261 §19.3).
	newTag() string
	sipDomain() string
	listenerFor(transport, dest string) (listener, bool)
	// contacts are the registered bindings of a user, for the fork.
	contacts(user string) []registrar.Binding
	// response builds a response with our Server header.
	response(req *sip.Request, code int, reason string, body []byte) *sip.Response
	// callStarted runs as each call starts (a test hook).
	callStarted(dialled string)
	// rtcpCapture is the RTCP capture hook (capture_rtcp.go), nil when off.
	rtcpCapture() RTCPCapture
}

// sipSender is how a Call puts messages on the wire.
type sipSender interface {
	// request starts a client transaction for a complete request.
	request(ctx context.Context, req *sip.Request) (sip.ClientTransaction, error)
	// writeRequest sends a request outside any transaction (ACK).
	writeRequest(req *sip.Request) error
	// writeResponse sends a response outside its transaction (a 2xx
	// retransmission, RFC 3261 §13.3.1.4).
	writeResponse(res *sip.Response) error
}

// mediaPath is what a Call needs of the media engine: an endpoint facing
// each leg and a bridge between two of them. It is the seam where another
// media engine plugs in.
type mediaPath interface {
	NewEndpoint(log *slog.Logger) (*media.Endpoint, error)
	NewBridge(a, b *media.Endpoint, log *slog.Logger) mediaBridge
	// NewTerminal makes Switchboard the far end of ep's media (a
	// service call, service_call.go).
	NewTerminal(ep *media.Endpoint, log *slog.Logger) mediaTerminal
	// joinRoom adds a participant to a conference room (conference.go).
	// rr, if set, joins or starts the room's recording (conference_recording.go).
	joinRoom(name string, rate int, pc mixer.ParticipantConfig, events func(mixer.Event), rr *roomRecord) (*mixer.Participant, func(), error)
	// loadClip loads a sound file for playback or music on hold, once
	// (clips.go).
	loadClip(path string) (*media.Clip, error)
}

// mediaBridge relays between a call's two endpoints.
type mediaBridge interface {
	// Configure applies both legs' negotiated formats: relay or
	// processing (transcoding) per direction.
	Configure(cfg media.BridgeConfig) error
	// Processing reports whether packets from the endpoint are processed
	// rather than relayed.
	Processing(from *media.Endpoint) bool
	// SetPayloadMap widens a relayed direction to every codec both legs
	// negotiated (media.MatchAnswer computes it), not only the first.
	SetPayloadMap(from *media.Endpoint, m media.PayloadMap)
	// SendDigit sends a DTMF key press as RFC 4733 events out of to.
	SendDigit(to *media.Endpoint, key byte, dur time.Duration) error
	// Start begins relaying; onTimeout runs when media stops flowing.
	Start(onTimeout func(reason string))
	// Pause stops relaying (and the inactivity timer) while held.
	Pause(p bool)
	Stop()
}

// recordSink takes each call's one record, and is told when the call is
// answered (Up: the crash journal, package journal).
type recordSink interface {
	Write(rec cdr.Record)
	Up(rec *cdr.Record)
}

var (
	_ callHost    = (*Server)(nil)
	_ sipSender   = (*sipgoSender)(nil)
	_ mediaPath   = (*engineMedia)(nil)
	_ mediaBridge = (*media.Bridge)(nil)
	_ recordSink  = (*observedRecords)(nil)
)

// sipgoSender sends through sipgo's client and transport layer.
type sipgoSender struct {
	client *sipgo.Client
	ua     *sipgo.UserAgent
}

func (s *sipgoSender) request(ctx context.Context, req *sip.Request) (sip.ClientTransaction, error) {
	return s.client.TransactionRequest(ctx, req, prebuilt)
}

func (s *sipgoSender) writeRequest(req *sip.Request) error {
	return s.client.WriteRequest(req, prebuilt)
}

func (s *sipgoSender) writeResponse(res *sip.Response) error {
	return s.ua.TransportLayer().WriteMsg(res)
}

// prebuilt tells sipgo the request is complete: add nothing.
func prebuilt(*sipgo.Client, *sip.Request) error { return nil }

// engineMedia is today's media engine behind mediaPath, with its
// conference rooms (made on the first join) and loaded sound files.
type engineMedia struct {
	e         *media.Engine
	log       *slog.Logger
	roomsOnce sync.Once
	rooms     *conferences
	clips     clipCache
}

func (m *engineMedia) NewEndpoint(log *slog.Logger) (*media.Endpoint, error) {
	return m.e.NewEndpoint(log)
}

func (m *engineMedia) NewBridge(a, b *media.Endpoint, log *slog.Logger) mediaBridge {
	return media.NewBridge(a, b, log)
}

// Server as callHost.

func (s *Server) agent() string          { return s.userAgent }
func (s *Server) currentPolicy() *policy { return s.policy.Load() }
func (s *Server) newTag() string         { return s.ids.hex(8) }
func (s *Server) sipDomain() string      { return s.domain }

func (s *Server) contacts(user string) []registrar.Binding {
	return registrar.Reachable(s.reg.Lookup(user), s.flowAlive) // outbound.go
}

func (s *Server) callStarted(dialled string) {
	if s.callHook != nil {
		s.callHook(dialled)
	}
}
