package config

import "fmt"

// Video policies (routes[].video, users[].video, trunks[].video).
const (
	// VideoRelay carries a video m-line both legs can share as a stream
	// of its own, relayed without decoding (the default).
	VideoRelay = "relay"
	// VideoDrop refuses every video m-line (port 0) on both legs; audio
	// goes on.
	VideoDrop = "drop"
)

// StreamPolicy is what a route, user or trunk allows of the streams
// beside audio (inline in routes[], users[] and trunks[]; b2bua/call_streams.go).
type StreamPolicy struct {
	// Video is relay or drop; empty leaves the choice to the others. A
	// call relays video only when neither its route nor the caller nor
	// the callee (user or trunk) says drop.
	Video string `yaml:"video"`
}

// Drops reports whether the policy refuses video.
func (p StreamPolicy) Drops() bool { return p.Video == VideoDrop }

// streams validates every route's, user's and trunk's stream policy.
func (v *validator) streams() {
	check := func(key string, p StreamPolicy) {
		if p.Video != "" {
			v.oneOf(key+".video", p.Video, VideoRelay, VideoDrop)
		}
	}
	for i := range v.c.Routes {
		check(fmt.Sprintf("routes[%d]", i), v.c.Routes[i].Streams)
	}
	for i := range v.c.Users {
		check(fmt.Sprintf("users[%d]", i), v.c.Users[i].Streams)
	}
	for i := range v.c.Trunks {
		check(fmt.Sprintf("trunks[%d]", i), v.c.Trunks[i].Streams)
	}
}
