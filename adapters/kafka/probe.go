package kafka

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// probeTimeout bounds one probe of the brokers.
const probeTimeout = 10 * time.Second

// probe asks the brokers for the topics' partitions every ProbeInterval, so that the status
// tells whether they can be reached even while no message arrives.
func (in *Ingester) probe(ctx context.Context) {
	t := time.NewTicker(in.cfg.ProbeInterval)
	defer t.Stop()
	healthy := true
	for {
		err := in.probeOnce(ctx)
		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			in.status.brokersFailed(err)
			if healthy {
				in.logger.Warn("kafka brokers unavailable", "error", err)
			}
		default:
			in.status.brokersOK()
			if !healthy {
				in.logger.Info("kafka brokers available again")
			}
		}
		healthy = err == nil
		select {
		case <-t.C:
		case <-ctx.Done():
			return
		}
	}
}

// probeOnce connects to the first broker that answers and reads the topics' partitions.
func (in *Ingester) probeOnce(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, min(probeTimeout, in.cfg.ProbeInterval))
	defer cancel()
	var errs []error
	for _, addr := range in.cfg.Brokers {
		conn, err := in.conn.dialer.DialContext(ctx, "tcp", addr)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if deadline, ok := ctx.Deadline(); ok {
			_ = conn.SetDeadline(deadline)
		}
		_, err = conn.ReadPartitions(in.cfg.Topics...)
		conn.Close()
		if err != nil {
			return fmt.Errorf("read partitions of %v from %s: %w", in.cfg.Topics, addr, err)
		}
		return nil
	}
	return fmt.Errorf("reach brokers: %w", errors.Join(errs...))
}
