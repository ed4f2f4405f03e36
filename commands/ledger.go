package commands

import (
	"context"
	"errors"
	"fmt"

	"herald/domain"
)

// Ledger records the outcome of each notification in the stream of its (event,
// configuration) pair, and tells what a pair's outcome was, so that dispatch, restarts and
// backfills never deliver a pair twice.
type Ledger struct {
	store EventStore
}

// NewLedger builds the ledger.
func NewLedger(store EventStore) (*Ledger, error) {
	if store == nil {
		return nil, fmt.Errorf("new ledger: %w", errNilDependency)
	}
	return &Ledger{store: store}, nil
}

// Record appends a delivery's outcome. A delivered pair's stream never gets a second fact:
// recording a delivery again answers the position of the first. The first outcome of a pair
// (nearly always the only one) is appended expecting no stream, without reading first; only
// when the pair already has facts is the stream read, and the append then expects its
// revision, so that two instances never both add to it.
func (l *Ledger) Record(ctx context.Context, d domain.Delivery) (uint64, error) {
	if d.EventID == "" || d.ConfigurationID == "" {
		return 0, fmt.Errorf("record delivery: event and configuration ids are required")
	}
	fact, err := d.Encode()
	if err != nil {
		return 0, err
	}
	expect := domain.NoStream()
	for attempt := 1; ; attempt++ {
		res, err := l.store.Append(ctx, d.Stream(), expect, fact)
		if err == nil {
			return res.Position, nil
		}
		if !errors.Is(err, domain.ErrConcurrency) || attempt == maxLedgerAttempts {
			return 0, fmt.Errorf("record %s of event %s to configuration %s: %w", d.Status, d.EventID, d.ConfigurationID, err)
		}
		records, err := l.store.ReadStream(ctx, d.Stream())
		if err != nil {
			return 0, fmt.Errorf("read the ledger of event %s to configuration %s: %w", d.EventID, d.ConfigurationID, err)
		}
		prior, ok, err := outcomeOf(records)
		if err != nil {
			return 0, err
		}
		if ok && prior.Status == domain.DeliveryDelivered {
			return prior.Position, nil
		}
		expect = domain.Exact(records[len(records)-1].Revision)
	}
}

// maxLedgerAttempts bounds the appends of one outcome that find the pair's stream moved (by
// other instances recording it at the same moment).
const maxLedgerAttempts = 5

// Outcome returns what the ledger holds for a pair: its delivery when there is one,
// otherwise its last failure; ok is false when the pair was never settled.
func (l *Ledger) Outcome(ctx context.Context, eventID, configurationID string) (d domain.Delivery, ok bool, err error) {
	records, err := l.store.ReadStream(ctx, domain.DeliveryStream(eventID, configurationID))
	switch {
	case errors.Is(err, domain.ErrStreamNotFound), errors.Is(err, domain.ErrStreamDeleted):
		return domain.Delivery{}, false, nil
	case err != nil:
		return domain.Delivery{}, false, fmt.Errorf("read the ledger of event %s to configuration %s: %w", eventID, configurationID, err)
	}
	return outcomeOf(records)
}

// outcomeOf reads a pair's ledger stream: its delivery when there is one, otherwise its last
// failure.
func outcomeOf(records []domain.Record) (d domain.Delivery, ok bool, err error) {
	for _, r := range records {
		got, err := domain.DecodeDelivery(r.Type, r.Data)
		if err != nil {
			return domain.Delivery{}, false, err
		}
		got.Position = r.Position
		if !ok || d.Status != domain.DeliveryDelivered {
			d, ok = got, true
		}
	}
	return d, ok, nil
}

// OpenSettings returns settings with every credential opened, for a sender.
func OpenSettings(s domain.Settings, sealer SecretSealer) (domain.Settings, error) {
	return openSettings(s, sealer)
}
