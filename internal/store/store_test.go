package store

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"
	"time"
)

func TestOpenDispatch(t *testing.T) {
	var got string
	Register("storetest-fake", func(ctx context.Context, dsn string) (Store, error) {
		got = dsn
		return nil, errors.New("fake")
	})
	if _, err := Open(context.Background(), "storetest-fake://x/y"); err == nil || got != "storetest-fake://x/y" {
		t.Fatalf("Open did not reach the registered func: %v, %q", err, got)
	}
	tests := []struct{ dsn, err string }{
		{"./llmux.db", "want sqlite://PATH or postgres://"},
		{"", "want sqlite://PATH"},
		{"://x", "want sqlite://PATH"},
		{"mysql://u:pw@h/db", `no store registered for scheme "mysql"`},
	}
	for _, tt := range tests {
		_, err := Open(context.Background(), tt.dsn)
		if err == nil || !strings.Contains(err.Error(), tt.err) {
			t.Errorf("Open(%q) = %v, want %q", tt.dsn, err, tt.err)
		}
		if err != nil && strings.Contains(err.Error(), "pw") {
			t.Errorf("Open(%q) leaks the password: %v", tt.dsn, err)
		}
	}
	defer func() {
		if recover() == nil {
			t.Error("registering a scheme twice did not panic")
		}
	}()
	Register("storetest-fake", func(context.Context, string) (Store, error) { return nil, nil })
}

func TestRedactDSN(t *testing.T) {
	tests := []struct{ in, want string }{
		{"postgres://user:secret@host:5432/db?sslmode=disable", "postgres://user:xxxxx@host:5432/db?sslmode=disable"},
		{"postgres://user@host/db", "postgres://user@host/db"},
		{"postgres://host/db?user=u&password=secret&sslmode=disable", "postgres://host/db?user=u&password=xxxxx&sslmode=disable"},
		{"postgres://host/db?password=secret", "postgres://host/db?password=xxxxx"},
		{"postgres://u:p@ss@host/db", "postgres://u:xxxxx@host/db"},
		{"postgres://host/db?x=1#a@b", "postgres://host/db?x=1#a@b"},
		{"sqlite://./llmux.db", "sqlite://./llmux.db"},
		{"host=h password=secret user=u", "host=h password=xxxxx user=u"},
	}
	for _, tt := range tests {
		if got := RedactDSN(tt.in); got != tt.want {
			t.Errorf("RedactDSN(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestUsable(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		k    VirtualKey
		want bool
	}{
		{"enabled", VirtualKey{Enabled: true}, true},
		{"disabled", VirtualKey{}, false},
		{"revoked", VirtualKey{Enabled: true, RevokedAt: now.Add(-time.Hour)}, false},
		{"expired", VirtualKey{Enabled: true, ExpiresAt: now}, false},
		{"expires later", VirtualKey{Enabled: true, ExpiresAt: now.Add(time.Second)}, true},
	}
	for _, tt := range tests {
		if got := tt.k.Usable(now); got != tt.want {
			t.Errorf("%s: Usable = %v", tt.name, got)
		}
	}
}

func TestValidateNamesTheField(t *testing.T) {
	ok := VirtualKey{Name: "k", Hash: HashKey("k")}
	if err := ok.ValidateNew(); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		k     VirtualKey
		field string
	}{
		{VirtualKey{Name: "k"}, "hash"},
		{VirtualKey{Name: "k", Hash: HashKey("k"), Limits: Limits{BudgetUSD: math.Inf(1), BudgetPeriod: PeriodDaily}}, "budget_usd"},
		{VirtualKey{Name: "k", Hash: HashKey("k"), Limits: Limits{BudgetUSD: math.NaN(), BudgetPeriod: PeriodDaily}}, "budget_usd"},
		{VirtualKey{Name: "k", Hash: HashKey("k"), Prefix: strings.Repeat("p", 65)}, "prefix"},
		{VirtualKey{Name: "k", Hash: HashKey("k"), Metadata: map[string]string{"": "v"}}, "metadata key"},
	}
	for _, tt := range tests {
		err := tt.k.ValidateNew()
		if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tt.field) {
			t.Errorf("ValidateNew(%+v) = %v, want ErrInvalid naming %s", tt.k, err, tt.field)
		}
	}
	// An update does not need the hash.
	if err := (&VirtualKey{Name: "k"}).Validate(); err != nil {
		t.Errorf("Validate without a hash: %v", err)
	}
}

func TestNormalized(t *testing.T) {
	zone := time.FixedZone("X", 3600)
	r := UsageRecord{
		Time:           time.Date(2026, 1, 1, 1, 0, 0, 1999, zone),
		RequestedModel: "a\x00b\xffc",
		Latency:        1500 * time.Nanosecond,
		CostUSD:        math.Inf(-1),
	}.Normalized()
	if r.Time.Location() != time.UTC || r.Time.Nanosecond() != 1000 || r.Time.Hour() != 0 {
		t.Errorf("Time = %v", r.Time)
	}
	if r.RequestedModel != "ab\uFFFDc" || r.Latency != time.Microsecond || r.CostUSD != 0 {
		t.Errorf("Normalized = %+v", r)
	}
	if err := (&UsageRecord{}).Validate(); !errors.Is(err, ErrInvalid) {
		t.Errorf("a record without a time: %v", err)
	}
	if err := (&UsageRecord{Time: time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC)}).Validate(); !errors.Is(err, ErrInvalid) {
		t.Errorf("a record from 1900: %v", err)
	}
}

func TestNewID(t *testing.T) {
	a, b := NewID("key"), NewID("key")
	if a == b || !strings.HasPrefix(a, "key_") || len(a) != len("key_")+20 {
		t.Fatalf("NewID = %q, %q", a, b)
	}
}

func TestListLimit(t *testing.T) {
	for in, want := range map[int]int{0: 100, -1: 100, 5: 5, MaxListLimit + 1: MaxListLimit} {
		q := ListQuery{Limit: in}
		if got := q.EffectiveLimit(); got != want {
			t.Errorf("EffectiveLimit(%d) = %d, want %d", in, got, want)
		}
	}
}
