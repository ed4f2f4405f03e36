package viewstest

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"testing"
	"time"

	"herald/domain"
	"herald/projections"
)

// deliveryModel is what a deliveries view must hold: every delivery once, by position.
type deliveryModel struct {
	byPosition map[uint64]domain.Delivery
	newest     []domain.Delivery // newest first; nil when byPosition has changed since
	checkpoint uint64
}

func newDeliveryModel() *deliveryModel {
	return &deliveryModel{byPosition: map[uint64]domain.Delivery{}}
}

func (m *deliveryModel) apply(deliveries []domain.Delivery, checkpoint uint64) {
	for _, d := range deliveries {
		if _, held := m.byPosition[d.Position]; !held {
			m.byPosition[d.Position] = d
			m.newest = nil
		}
	}
	m.checkpoint = max(m.checkpoint, checkpoint)
}

func (m *deliveryModel) newestFirst() []domain.Delivery {
	if m.newest == nil {
		m.newest = slices.SortedFunc(maps.Values(m.byPosition), func(a, b domain.Delivery) int { return cmp.Compare(b.Position, a.Position) })
	}
	return m.newest
}

// page answers as the port says: up to limit matches strictly older than after, and Next
// when one more exists.
func (m *deliveryModel) page(f projections.DeliveryFilter, after uint64, limit int) projections.DeliveryPage {
	var p projections.DeliveryPage
	for _, d := range m.newestFirst() {
		if (after != 0 && d.Position >= after) || !f.Matches(d) {
			continue
		}
		if len(p.Deliveries) == limit {
			p.Next = p.Deliveries[limit-1].Position
			break
		}
		p.Deliveries = append(p.Deliveries, d)
	}
	return p
}

// matching returns every delivery f selects, newest first.
func (m *deliveryModel) matching(f projections.DeliveryFilter) []domain.Delivery {
	return m.page(f, 0, len(m.byPosition)+1).Deliveries
}

// deliveryFixture drives one view and the model side by side.
type deliveryFixture struct {
	t       *testing.T
	ctx     context.Context
	view    projections.DeliveryView
	model   *deliveryModel
	history *deliveryHistory
}

func newDeliveryFixture(t *testing.T, newView NewDeliveryView, seed uint64) *deliveryFixture {
	return &deliveryFixture{t: t, ctx: t.Context(), view: newView(t), model: newDeliveryModel(), history: newDeliveryHistory(seed)}
}

// apply applies deliveries to the view and the model, with the checkpoint at the history's
// position (past the last delivery, as other facts follow it).
func (fx *deliveryFixture) apply(deliveries ...domain.Delivery) {
	fx.t.Helper()
	fx.history.position += 2
	fx.applyAt(fx.history.position, deliveries...)
}

func (fx *deliveryFixture) applyAt(checkpoint uint64, deliveries ...domain.Delivery) {
	fx.t.Helper()
	if err := fx.view.Apply(fx.ctx, deliveries, checkpoint); err != nil {
		fx.t.Fatalf("Apply(%d deliveries, checkpoint %d): %v", len(deliveries), checkpoint, err)
	}
	fx.model.apply(deliveries, checkpoint)
}

// record applies n new deliveries of the history, in batches of at most batch.
func (fx *deliveryFixture) record(n, batch int) []domain.Delivery {
	fx.t.Helper()
	all := fx.history.batch(n)
	for start := 0; start < n; start += batch {
		fx.apply(all[start:min(n, start+batch)]...)
	}
	return all
}

func (fx *deliveryFixture) page(f projections.DeliveryFilter, after uint64, limit int) projections.DeliveryPage {
	fx.t.Helper()
	p, err := fx.view.Deliveries(fx.ctx, f, after, limit)
	if err != nil {
		fx.t.Fatalf("Deliveries(%s, after %d, limit %d): %v", describeDeliveryFilter(f), after, limit, err)
	}
	return p
}

// checkPage asks the view for one page and compares it with the model's.
func (fx *deliveryFixture) checkPage(f projections.DeliveryFilter, after uint64, limit int) projections.DeliveryPage {
	fx.t.Helper()
	got := fx.page(f, after, limit)
	if d := diffDeliveryPage(fx.model.page(f, after, limit), got); d != "" {
		fx.t.Fatalf("Deliveries(%s, after %d, limit %d): %s", describeDeliveryFilter(f), after, limit, d)
	}
	return got
}

// walk pages through everything f selects, checking each page, and returns it all.
func (fx *deliveryFixture) walk(f projections.DeliveryFilter, limit int) []domain.Delivery {
	fx.t.Helper()
	var all []domain.Delivery
	var after uint64
	for pages := 0; ; pages++ {
		if pages > len(fx.model.byPosition)+1 {
			fx.t.Fatalf("walk of %s with limit %d does not end", describeDeliveryFilter(f), limit)
		}
		p := fx.checkPage(f, after, limit)
		all = append(all, p.Deliveries...)
		if p.Next == 0 {
			return all
		}
		after = p.Next
	}
}

// check compares the whole view with the model: the checkpoint, and a walk and a count of
// every filter the model suggests, with page sizes from one to more than everything.
func (fx *deliveryFixture) check() {
	fx.t.Helper()
	if got, err := fx.view.Checkpoint(fx.ctx); err != nil || got != fx.model.checkpoint {
		fx.t.Fatalf("Checkpoint = %d, %v; want %d", got, err, fx.model.checkpoint)
	}
	limits := []int{1, 3, 10, 100, projections.MaxDeliveryPage}
	for i, f := range fx.filters() {
		want := fx.model.matching(f)
		limit := limits[i%len(limits)]
		if len(want)/limit > 40 { // a walk of one item a page would take long; others cover it
			limit = max(limit, len(want)/40)
		}
		if got := fx.walk(f, limit); len(got) != len(want) {
			fx.t.Fatalf("walk of %s holds %d deliveries, want %d", describeDeliveryFilter(f), len(got), len(want))
		}
		if n, err := fx.view.CountDeliveries(fx.ctx, f); err != nil || n != len(want) {
			fx.t.Fatalf("CountDeliveries(%s) = %d, %v; want %d", describeDeliveryFilter(f), n, err, len(want))
		}
	}
}

// filters returns filters worth asking the view about: none; each account, configuration
// and status, and some events, also values nothing has; time windows bounded by instants
// the deliveries have (bounds are inclusive and exclusive); and combinations of these.
func (fx *deliveryFixture) filters() []projections.DeliveryFilter {
	held := fx.model.newestFirst()
	out := []projections.DeliveryFilter{{}, {Account: "nobody"}, {ConfigurationID: "no-such-configuration"}, {EventID: "no-such-event"}}
	for _, account := range fx.history.accounts {
		out = append(out, projections.DeliveryFilter{Account: account})
	}
	for _, c := range fx.history.configurations {
		out = append(out, projections.DeliveryFilter{ConfigurationID: c.id})
	}
	for _, s := range []domain.DeliveryStatus{domain.DeliveryDelivered, domain.DeliveryFailed, "unknown"} {
		out = append(out, projections.DeliveryFilter{Status: s})
	}
	if len(held) == 0 {
		return out
	}
	pick := func(i int) domain.Delivery { return held[(i*7919)%len(held)] }
	for i := range 4 {
		d := pick(i)
		out = append(out,
			projections.DeliveryFilter{EventID: d.EventID},
			projections.DeliveryFilter{EventID: d.EventID, ConfigurationID: d.ConfigurationID},
			projections.DeliveryFilter{EventID: d.EventID, Account: "nobody"},
			projections.DeliveryFilter{Since: d.At},
			projections.DeliveryFilter{Before: d.At},
			projections.DeliveryFilter{Since: d.At, Before: d.At.Add(time.Nanosecond)},
			projections.DeliveryFilter{Since: d.At.Add(time.Nanosecond), Before: pick(i + 5).At.Add(time.Hour)},
			projections.DeliveryFilter{Account: d.Account, Status: d.Status},
			projections.DeliveryFilter{Account: d.Account, ConfigurationID: d.ConfigurationID},
			projections.DeliveryFilter{Account: "nobody", ConfigurationID: d.ConfigurationID},
			projections.DeliveryFilter{ConfigurationID: d.ConfigurationID, Status: domain.DeliveryFailed, Since: pick(i + 1).At},
			projections.DeliveryFilter{Account: d.Account, Before: d.At, Status: d.Status},
			projections.DeliveryFilter{
				Account: d.Account, ConfigurationID: d.ConfigurationID, EventID: d.EventID, Status: d.Status,
				Since: d.At.Add(-time.Minute), Before: d.At.Add(time.Minute),
			},
		)
	}
	return out
}

// diffDeliveryPage tells how got differs from want, or "".
func diffDeliveryPage(want, got projections.DeliveryPage) string {
	if len(got.Deliveries) != len(want.Deliveries) {
		return fmt.Sprintf("%d deliveries %s, want %d %s", len(got.Deliveries), positions(got.Deliveries), len(want.Deliveries), positions(want.Deliveries))
	}
	for i := range want.Deliveries {
		if d := diffDelivery(want.Deliveries[i], got.Deliveries[i]); d != "" {
			return fmt.Sprintf("delivery %d: %s", i, d)
		}
	}
	if got.Next != want.Next {
		return fmt.Sprintf("Next = %d, want %d", got.Next, want.Next)
	}
	return ""
}

// positions lists the positions of deliveries, shortened when long.
func positions(deliveries []domain.Delivery) string {
	out := make([]uint64, 0, min(len(deliveries), 12))
	for _, d := range deliveries[:min(len(deliveries), 12)] {
		out = append(out, d.Position)
	}
	if len(deliveries) > 12 {
		return fmt.Sprint(out) + "..."
	}
	return fmt.Sprint(out)
}
