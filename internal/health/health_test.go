package health

import (
	"strings"
	"testing"
	"time"
)

// t0 is the fake clock's origin; tests step it with at.
var t0 = time.Date(2025, 8, 21, 12, 41, 0, 0, time.UTC)

func at(d time.Duration) time.Time { return t0.Add(d) }

func TestPolicyWithDefaults(t *testing.T) {
	defaults := Policy{
		FailureThreshold: 5, OpenFor: 30 * time.Second, MaxOpen: 5 * time.Minute,
		CooldownBase: time.Second, CooldownMax: time.Minute,
		ProbeAfter: time.Minute, ProbeMax: 30 * time.Minute, ProbeTimeout: time.Minute,
		Strategy: RoundRobin,
	}
	tests := []struct {
		name string
		in   Policy
		want Policy
	}{
		{"zero", Policy{}, defaults},
		{"negative takes the default", Policy{FailureThreshold: -1, OpenFor: -time.Second, CooldownMax: -1}, defaults},
		{"given values stay", Policy{FailureThreshold: 2, OpenFor: time.Second, MaxOpen: 4 * time.Second, Strategy: LeastRecentlyLimited},
			func() Policy {
				p := defaults
				p.FailureThreshold, p.OpenFor, p.MaxOpen, p.Strategy = 2, time.Second, 4*time.Second, LeastRecentlyLimited
				return p
			}()},
		{"maxima raised to their base", Policy{OpenFor: 10 * time.Minute, CooldownBase: 2 * time.Minute, ProbeAfter: time.Hour},
			func() Policy {
				p := defaults
				p.OpenFor, p.MaxOpen = 10*time.Minute, 10*time.Minute
				p.CooldownBase, p.CooldownMax = 2*time.Minute, 2*time.Minute
				p.ProbeAfter, p.ProbeMax = time.Hour, time.Hour
				return p
			}()},
		{"unknown strategy", Policy{Strategy: "random"}, defaults},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.in.WithDefaults(); got != tt.want {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestPolicyValidate(t *testing.T) {
	tests := []struct {
		in      Policy
		wantErr string
	}{
		{Policy{}, ""},
		{Policy{Strategy: RoundRobin}, ""},
		{Policy{Strategy: LeastRecentlyLimited, FailureThreshold: 3}, ""},
		{Policy{FailureThreshold: -1}, "FailureThreshold: must not be negative"},
		{Policy{CooldownMax: -time.Second}, "CooldownMax: must not be negative, got -1s"},
		{Policy{ProbeTimeout: -1}, "ProbeTimeout"},
		{Policy{Strategy: "fill_first"}, `Strategy: unknown strategy "fill_first"`},
	}
	for _, tt := range tests {
		err := tt.in.Validate()
		switch {
		case tt.wantErr == "" && err != nil:
			t.Errorf("%+v: unexpected error %v", tt.in, err)
		case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
			t.Errorf("%+v: error %v, want one containing %q", tt.in, err, tt.wantErr)
		}
	}
}

func TestOutcomeForStatus(t *testing.T) {
	tests := []struct {
		code int
		want Outcome
	}{
		{200, Success}, {201, Success}, {304, Success},
		{429, RateLimited},
		{401, AuthFailed}, {403, AuthFailed},
		{500, Failure}, {502, Failure}, {503, Failure}, {504, Failure}, {529, Failure}, {408, Failure},
		{400, Neutral}, {404, Neutral}, {413, Neutral}, {422, Neutral},
		{0, Neutral}, {101, Neutral},
	}
	for _, tt := range tests {
		if got := OutcomeForStatus(tt.code); got != tt.want {
			t.Errorf("OutcomeForStatus(%d) = %v, want %v", tt.code, got, tt.want)
		}
	}
}

func TestOutcomeString(t *testing.T) {
	for o, want := range map[Outcome]string{
		0: "unknown", Success: "success", RateLimited: "rate_limited", AuthFailed: "auth_failed",
		Failure: "failure", Neutral: "neutral", 200: "unknown",
	} {
		if got := o.String(); got != want {
			t.Errorf("Outcome(%d).String() = %q, want %q", o, got, want)
		}
	}
}

func TestBackoff(t *testing.T) {
	tests := []struct {
		base, limit time.Duration
		n           int
		want        time.Duration
	}{
		{time.Second, time.Minute, 1, time.Second},
		{time.Second, time.Minute, 2, 2 * time.Second},
		{time.Second, time.Minute, 6, 32 * time.Second},
		{time.Second, time.Minute, 7, time.Minute},
		{time.Second, time.Minute, 1 << 30, time.Minute}, // no overflow
		{time.Minute, 30 * time.Minute, 6, 30 * time.Minute},
	}
	for _, tt := range tests {
		if got := backoff(tt.base, tt.limit, tt.n); got != tt.want {
			t.Errorf("backoff(%v, %v, %d) = %v, want %v", tt.base, tt.limit, tt.n, got, tt.want)
		}
	}
}
