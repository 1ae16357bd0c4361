package b2bua

import (
	"strings"

	"github.com/switchboard/switchboard/cdr"
	"github.com/switchboard/switchboard/media"
	"github.com/switchboard/switchboard/media/faxgw"
)

// T.38 ↔ G.711 fax gateway (issue 17). When the far leg refuses the
// offerer's T.38 re-INVITE and its audio is G.711, Switchboard answers the
// T.38 itself and gateways the fax (spandsp's t38_gateway, media/faxgw):
//
//	4xx/5xx (image) from Y ─► faxGateway: the re-INVITE's layout undone
//	    (Y stays on audio), the call's bridge let go of both audio
//	    endpoints, and
//	X's UDPTL endpoint ─► Gateway.ReceiveUDPTL ─► T.30/modems ─► Terminal
//	    (Y's audio endpoint, G.711) ─► Y's fax machine, and back:
//	    Y ─► Terminal tap (faxgw.PCM) ─► Gateway.Audio ─► WriteDatagram ─► X
//	X answered 200 with our T.38 attributes, the call marked t38-gatewayed
//	re-INVITE (audio) or the call's end ─► stopFaxGateway: the gateway
//	    and terminal torn down, the bridge takes the endpoints back
//
// Without a G.711 far leg (or without cgo: no spandsp) the refusal is
// relayed as before (faxRefused: g711-passthrough).

// faxGatewayed is a gateway on the call: the T.38 leg's UDPTL endpoint,
// the gateway, and the terminal on the audio leg's endpoint.
type faxGatewayed struct {
	gw    *faxgw.Gateway
	term  mediaTerminal
	udptl *media.Endpoint
}

// gatewayT38 is what the gateway can take: T.38 version 0, 14400 bit/s,
// datagrams of up to 400 octets, redundancy as error correction (ITU-T
// T.38 Annex D.2.3).
var gatewayT38 = media.T38{Version: 0, MaxBitRate: 14400, MaxBuffer: 2000, MaxDatagram: 400, UDPEC: "t38UDPRedundancy"}

// faxRedundancy is how many earlier IFP packets each UDPTL datagram the
// gateway sends repeats, with t38UDPRedundancy.
const faxRedundancy = 3

// reattacher is what the gateway needs of the call's bridge to give it
// its endpoints back (media.Bridge.Reattach).
type reattacher interface{ Reattach() }

// isG711 reports whether c is PCMU or PCMA (8 kHz): what a gateway leg
// must speak.
func isG711(c media.Codec) bool {
	return strings.EqualFold(c.Name, "PCMU") || strings.EqualFold(c.Name, "PCMA")
}

// faxGateway takes the far leg's refusal of a T.38 re-INVITE by
// gatewaying the fax, and reports whether it did; on false nothing has
// changed (the caller relays the refusal).
func (c *Call) faxGateway(out *outTx) bool {
	f := c.streams.fax
	audio := out.leg // refused T.38: its fax machine speaks G.711
	from := c.other(audio)
	if f == nil || f.gw != nil || from == nil || audio.Endpoint == nil || from.Endpoint == nil {
		return false
	}
	format := legFormat(audio.Codecs, audio.Ptime)
	if !isG711(format.Audio) || format.Audio.Clock != 8000 {
		c.log.Info("fax: no gateway, the refusing leg's audio is not G.711", "leg", audio.Name, "codec", format.Audio.Name)
		return false
	}
	near, _ := f.ends(f.fromA)
	neg := media.NegotiateT38(f.t38, gatewayT38)
	cfg := faxgw.Config{
		Version:        neg.Version,
		MaxBitRate:     neg.MaxBitRate,
		TransferredTCF: strings.EqualFold(neg.RateManagement, "transferredTCF"),
		MaxDatagram:    f.t38.MaxDatagram,
	}
	if strings.EqualFold(neg.UDPEC, "t38UDPRedundancy") {
		cfg.Redundancy = faxRedundancy
	}
	gw, err := faxgw.New(cfg, near.WriteDatagram)
	if err != nil {
		c.log.Info("fax: no gateway", "error", err)
		return false
	}
	pcm := faxgw.NewPCM(gw)
	term := c.media.NewTerminal(audio.Endpoint, c.log.With("leg", audio.Name, "stream", "fax-gateway"))
	if err := term.Configure(media.TerminalConfig{Format: format, Source: pcm}); err != nil {
		gw.Close()
		c.log.Info("fax: no gateway", "leg", audio.Name, "error", err)
		return false
	}
	term.AddTap(pcm)
	if out.undo != nil {
		out.undo() // the refusing leg keeps its audio layout
	}
	// The call's bridge carries no audio meanwhile: the terminal takes the
	// refusing leg's endpoint, and the T.38 leg's audio goes nowhere.
	from.Endpoint.SetHandler(nil)
	term.Start(nil)
	near.ReceiveDatagrams(gw.ReceiveUDPTL)
	c.bridge.Pause(true)
	f.gw = &faxGatewayed{gw: gw, term: term, udptl: near}
	f.gatewayed, f.audioCodec = true, format.Audio.Name

	var secs []media.Section
	for _, s := range media.ParseStreams(out.origin.req.Body()) {
		if s.Index == f.offer.Index {
			secs = append(secs, media.T38Section(s.Index, int(near.Local().Port()), neg))
			continue
		}
		secs = append(secs, media.RejectSection(s))
	}
	from.Session.SetStreams(secs)
	from.Session.SetAudioless(true)
	c.log.Info("fax: T.38 refused by the other leg, gatewayed to its G.711", "leg", audio.Name,
		"t38_version", neg.Version, "max_bit_rate", neg.MaxBitRate, "udp_ec", neg.UDPEC, "codec", format.Audio.Name)
	r := c.answer(out.origin, 200, from.Session.Build(from.Endpoint.Local(), nil, media.SendRecv, 0))
	c.startRetransmit(r, from, out.origin.req.CSeq().SeqNo)
	return true
}

// stopFaxGateway tears the gateway down (the call went back to audio, or
// ended): the UDPTL endpoint back to its RTP path, the terminal stopped,
// the call's bridge given both audio endpoints again.
func (c *Call) stopFaxGateway() {
	f := c.streams.fax
	if f == nil || f.gw == nil {
		return
	}
	g := f.gw
	f.gw = nil
	g.udptl.StopDatagrams()
	g.term.Stop()
	g.gw.Close()
	f.pages = g.gw.Stats().Pages // kept by Close
	if br, ok := c.bridge.(reattacher); ok {
		br.Reattach()
	}
	c.log.Info("fax: gateway stopped", "pages", f.pages)
}

// recordFaxGateway writes a gatewayed fax into the record and reports
// whether there was one.
func (c *Call) recordFaxGateway(r *cdr.Record) bool {
	f := c.streams.fax
	if f == nil || !f.gatewayed {
		return false
	}
	r.Fax = cdr.FaxT38Gatewayed
	r.FaxPages = f.pages
	if f.gw != nil {
		r.FaxPages = f.gw.gw.Stats().Pages
	}
	near, _ := f.ends(f.fromA)
	st := near.Stats()
	s := cdr.StreamRecord{Index: f.offer.Index, Media: "image", Mode: cdr.FaxT38Gatewayed, CodecA: "t38", CodecB: "t38",
		AToBPackets: st.PacketsIn, AToBBytes: st.BytesIn, BToAPackets: st.PacketsOut, BToABytes: st.BytesOut}
	if !f.fromA { // the callee's leg speaks T.38
		s.AToBPackets, s.AToBBytes, s.BToAPackets, s.BToABytes = st.PacketsOut, st.BytesOut, st.PacketsIn, st.BytesIn
		s.CodecA = f.audioCodec
	} else {
		s.CodecB = f.audioCodec
	}
	r.Streams = append(r.Streams, s)
	return true
}
