package rtcpstats

import (
	"sync"
	"time"

	"github.com/pion/rtcp"

	"github.com/switchboard/switchboard/media/rtp"
)

// Config configures a Session: one leg's RTP session as the B2BUA
// terminates it, with one local source (ours) and one remote source.
type Config struct {
	// SSRC is the local SSRC, sent in reports and matched in report blocks
	// and DLRR sub-blocks from the peer.
	SSRC uint32
	// CNAME is the local canonical name for SDES (RFC 3550 §6.5.1).
	CNAME string
	// ClockRate is the RTP clock rate of the leg's codec in Hz.
	ClockRate uint32
	// Codec is the SDP encoding name (PCMU, PCMA, G722, opus...), used for
	// the E-model impairment values and recorded in snapshots.
	Codec string
	// NoPLC tells that received G.711 is played without loss concealment.
	NoPLC bool
	// XR adds RTCP XR blocks (RFC 3611) to reports: VoIP Metrics and
	// Statistics Summary for the received stream, RRTR when not sending,
	// DLRR answering the peer's RRTR. Enable it when SDP negotiated
	// a=rtcp-xr (RFC 3611 §5).
	XR bool
	// MinSequential, Gmin and PacketDuration are passed to the Receiver.
	MinSequential  int
	Gmin           int
	PacketDuration time.Duration
	// Playout describes the receive-side jitter buffer and end-system
	// delay; SetPlayout updates it.
	Playout Playout
	// EModel overrides the G.107 default parameters when non-nil.
	EModel *EModel
}

// Playout describes the receive path after the network, for the E-model's
// one-way delay and the VoIP Metrics RX config and jitter buffer fields
// (RFC 3611 §4.7.6–4.7.7).
type Playout struct {
	// EndSystemDelay is the delay added by this end (jitter buffer,
	// packetization, codec), RFC 3611 §4.7.3. When 0 it is estimated as
	// JBNominal plus one packet duration.
	EndSystemDelay time.Duration
	// PLC is the concealment in use (PLCStandard when 0 and NoPLC unset).
	PLC PLCType
	// JBA tells whether the jitter buffer adapts.
	JBA JBType
	// JBRate is the jitter buffer adjustment rate, 0..15.
	JBRate uint8
	// JBNominal, JBMaximum and JBAbsMax are the jitter buffer delays.
	JBNominal, JBMaximum, JBAbsMax time.Duration
}

// Session keeps the statistics of one leg's RTP session: a Receiver for the
// remote source, a Sender for ours, and what the peer's RTCP told us (RTT,
// its view of our stream, CNAME, BYE). It builds the leg's compound RTCP
// reports and parses the peer's.
//
// OnRTP is called by the socket reader, OnSend by the writer, HandleRTCP
// by whoever reads RTCP, ReportPackets by the RTCP ticker and Snapshot by
// anyone; all are safe for concurrent use.
type Session struct {
	model EModel
	recv  *Receiver
	send  *Sender

	mu sync.Mutex
	// cfg and imp are read under mu: SetSSRC, SetXR and SetCodec change
	// them while the session runs.
	cfg            Config
	imp            Impairment
	jitterSum      time.Duration // Receiver jitter sampled at each report
	jitterN        int
	playoutStats   PlayoutStats
	playout        Playout
	sentAtReport   [2]uint64 // sender packet count at the last two reports
	rtt            time.Duration
	rttSum         time.Duration
	rttMin, rttMax time.Duration
	rttN           int
	remoteSSRC     uint32
	remoteCNAME    string
	bye            bool
	byeReason      string
	rrtrSSRC       uint32
	rrtrNTP        uint64
	rrtrArrival    time.Time
	haveRRTR       bool
	remoteBlock    rtcp.ReceptionReport
	haveRemote     bool
	remoteReports  uint64 // report blocks for our SSRC so far
	remoteVoIP     VoIPMetrics
	haveRemoteVoIP bool
}

// NewSession returns a Session for cfg.
func NewSession(cfg Config) *Session {
	if cfg.ClockRate == 0 {
		cfg.ClockRate = 8000
	}
	model := DefaultEModel()
	if cfg.EModel != nil {
		model = *cfg.EModel
	}
	imp, _ := CodecImpairment(cfg.Codec, !cfg.NoPLC)
	s := &Session{
		cfg:   cfg,
		model: model,
		imp:   imp,
		recv: NewReceiver(ReceiverConfig{
			ClockRate:      cfg.ClockRate,
			MinSequential:  cfg.MinSequential,
			Gmin:           cfg.Gmin,
			PacketDuration: cfg.PacketDuration,
		}),
		send: NewSender(cfg.ClockRate),
	}
	s.playout = s.normPlayout(cfg.Playout)
	return s
}

func (s *Session) normPlayout(p Playout) Playout {
	if p.PLC == PLCUnspecified {
		p.PLC = PLCStandard
		if s.cfg.NoPLC {
			p.PLC = PLCDisabled
		}
	}
	return p
}

// RemoteLoss returns the fraction of what we send that the peer reported
// lost in its last report block for our SSRC (RFC 3550 6.4.1), and how
// many such blocks have arrived, so that a caller polling it can tell a
// new report from the last one.
func (s *Session) RemoteLoss() (fraction float64, reports uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return float64(s.remoteBlock.FractionLost) / 256, s.remoteReports
}

// Receiver returns the receiver statistics of the remote source.
func (s *Session) Receiver() *Receiver { return s.recv }

// Sender returns the sender counts of the local source.
func (s *Session) Sender() *Sender { return s.send }

// OnRTP records a received RTP packet (see Receiver.Receive). It does not
// allocate.
func (s *Session) OnRTP(h rtp.Header, payloadLen int, arrival time.Time) {
	s.recv.Receive(h, payloadLen, arrival)
}

// OnSend records a sent RTP packet (see Sender.OnSend). It does not
// allocate.
func (s *Session) OnSend(ts uint32, payloadLen int, now time.Time) {
	s.send.OnSend(ts, payloadLen, now)
}

// SetPlayout updates the receive-path description.
func (s *Session) SetPlayout(p Playout) {
	p = s.normPlayout(p)
	s.mu.Lock()
	s.playout = p
	s.mu.Unlock()
}

// RTT returns the last round-trip time measured from the peer's reports
// (RFC 3550 §6.4.1 or RFC 3611 §4.5), and false if none was.
func (s *Session) RTT() (time.Duration, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rtt, s.rttN > 0
}

// recordRTT must be called with s.mu held.
func (s *Session) recordRTT(d time.Duration) {
	s.rtt = d
	s.rttSum += d
	if s.rttN == 0 || d < s.rttMin {
		s.rttMin = d
	}
	if d > s.rttMax {
		s.rttMax = d
	}
	s.rttN++
}

// quality rates the received stream with the E-model: conversational
// (with the one-way delay) and listening (without).
func (s *Session) quality(rs ReceiverStats, rtt time.Duration, p Playout) (cq, lq Rating, oneWay time.Duration) {
	esd := p.EndSystemDelay
	if esd == 0 {
		esd = p.JBNominal + rs.PacketDuration
	}
	oneWay = rtt/2 + esd
	var ppl float64
	if rs.PacketsExpected > 0 {
		lost := max(rs.PacketsLost, 0) + int64(rs.Discarded)
		ppl = min(100*float64(lost)/float64(rs.PacketsExpected), 100)
	}
	c := Conditions{Delay: oneWay, Ppl: ppl, BurstR: rs.Burst.BurstR, Codec: s.imp}
	cq = s.model.Rate(c)
	c.Delay = 0
	lq = s.model.Rate(c)
	return cq, lq, oneWay
}
