package limits

import (
	"context"
	"time"
)

// Unlimited is the Limiter that admits every request and records nothing:
// for configurations without limits, and as the no-policy baseline of
// benchmarks. Its tickets carry no rate-limit numbers (send no headers).
type Unlimited struct{}

// Admit implements Limiter; it fails only on a request without a key.
func (Unlimited) Admit(ctx context.Context, r Request) (*Ticket, error) {
	if r.Key == "" {
		return nil, errNoKey
	}
	return &Ticket{}, nil
}

// Settle implements Limiter.
func (Unlimited) Settle(ctx context.Context, t *Ticket, u Usage) error {
	if err := checkSettle(t, u); err != nil {
		return err
	}
	if !t.done.CompareAndSwap(false, true) {
		return ErrTicketDone
	}
	return nil
}

// Release implements Limiter.
func (Unlimited) Release(ctx context.Context, t *Ticket) error {
	if t != nil {
		t.done.Store(true)
	}
	return nil
}

// Spend implements Limiter: always zero.
func (Unlimited) Spend(ctx context.Context, s Subject, p Period) (Spend, error) {
	if err := p.Validate(); err != nil {
		return Spend{}, err
	}
	return newSpend(p, time.Now()), nil
}

// SeedSpend implements Limiter: it does nothing.
func (Unlimited) SeedSpend(ctx context.Context, s Subject, p Period, spent Money) error {
	return p.Validate()
}

var _ Limiter = Unlimited{}
