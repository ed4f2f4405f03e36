package domain

import (
	"encoding/json"
	"fmt"
	"time"
)

// Fact types of endpoint configurations.
const (
	ConfigurationCreatedType = "ConfigurationCreated"
	ConfigurationUpdatedType = "ConfigurationUpdated"
	SelectorsChangedType     = "SelectorsChanged"
	ConfigurationDeletedType = "ConfigurationDeleted"
)

// ConfigurationCreated is the fact that a configuration was added. Its secrets are sealed.
type ConfigurationCreated struct {
	ID, Account string
	Kind        EndpointKind
	Draft       ConfigurationDraft
	At          time.Time
}

// ConfigurationUpdated is the fact that a configuration's settings, name, description or
// TLS verification were replaced (selectors too, when Draft has them).
type ConfigurationUpdated struct {
	Draft ConfigurationDraft
	At    time.Time
}

// SelectorsChanged is the fact that a configuration's selectors were replaced.
type SelectorsChanged struct {
	Selectors []Selector
	At        time.Time
}

// ConfigurationDeleted is the fact that a configuration was removed.
type ConfigurationDeleted struct {
	At time.Time
}

// Apply changes the configuration by one of its facts; it is the only way its state changes.
func (c *Configuration) Apply(fact any, revision uint64) {
	switch f := fact.(type) {
	case ConfigurationCreated:
		*c = Configuration{ID: f.ID, Account: f.Account, Kind: f.Kind, CreatedAt: f.At}
		c.applyDraft(f.Draft, f.At)
	case ConfigurationUpdated:
		c.applyDraft(f.Draft, f.At)
	case SelectorsChanged:
		c.Selectors, c.UpdatedAt = f.Selectors, f.At
	case ConfigurationDeleted:
		c.Deleted, c.UpdatedAt = true, f.At
	}
	c.Revision = revision
}

func (c *Configuration) applyDraft(d ConfigurationDraft, at time.Time) {
	c.Name, c.Description, c.VerifyTLS, c.Settings, c.Templates = d.Name, d.Description, d.VerifyTLS, d.Settings, d.Templates
	if d.Selectors != nil {
		c.Selectors = d.Selectors
	}
	c.UpdatedAt = at
}

type selectorV1 struct {
	Scope        Scope  `json:"scope"`
	Level        string `json:"level"`
	Type         string `json:"type"`
	ResourceType string `json:"resource_type"`
}

type draftV1 struct {
	Name        string          `json:"name"`
	Description string          `json:"description,omitempty"`
	VerifyTLS   bool            `json:"verify_tls"`
	Settings    json.RawMessage `json:"settings"`
	Selectors   []selectorV1    `json:"selectors,omitempty"`
	Templates   *templatesV1    `json:"templates,omitempty"`
}

type templatesV1 struct {
	Title string `json:"title,omitempty"`
	Body  string `json:"body,omitempty"`
}

func encodeTemplates(t MessageTemplates) *templatesV1 {
	if t.IsZero() {
		return nil
	}
	return &templatesV1{Title: t.Title, Body: t.Body}
}

func decodeTemplates(w *templatesV1) MessageTemplates {
	if w == nil {
		return MessageTemplates{}
	}
	return MessageTemplates{Title: w.Title, Body: w.Body}
}

type configurationFactV1 struct {
	V         int           `json:"v"`
	ID        string        `json:"id,omitempty"`
	Account   string        `json:"account,omitempty"`
	Kind      EndpointKind  `json:"kind,omitempty"`
	Draft     *draftV1      `json:"draft,omitempty"`
	Selectors *[]selectorV1 `json:"selectors,omitempty"`
	At        string        `json:"at"`
}

func encodeSelectors(sels []Selector) []selectorV1 {
	if sels == nil {
		return nil
	}
	out := make([]selectorV1, len(sels))
	for i, s := range sels {
		out[i] = selectorV1{Scope: s.Scope, Level: s.Level, Type: s.Type, ResourceType: s.ResourceType}
	}
	return out
}

func decodeSelectors(in []selectorV1) ([]Selector, error) {
	if in == nil {
		return nil, nil
	}
	out := make([]Selector, len(in))
	for i, w := range in {
		s, err := NewSelector(w.Scope, w.Level, w.Type, w.ResourceType, true) // checked when recorded
		if err != nil {
			return nil, fmt.Errorf("selector %d: %w", i, err)
		}
		out[i] = s
	}
	return out, nil
}

func encodeDraft(d ConfigurationDraft) *draftV1 {
	return &draftV1{Name: d.Name, Description: d.Description, VerifyTLS: d.VerifyTLS, Settings: EncodeSettings(d.Settings), Selectors: encodeSelectors(d.Selectors), Templates: encodeTemplates(d.Templates)}
}

func decodeDraft(kind EndpointKind, w *draftV1) (ConfigurationDraft, error) {
	if w == nil {
		return ConfigurationDraft{}, fmt.Errorf("no draft")
	}
	settings, err := DecodeSettings(kind, w.Settings)
	if err != nil {
		return ConfigurationDraft{}, err
	}
	sels, err := decodeSelectors(w.Selectors)
	if err != nil {
		return ConfigurationDraft{}, err
	}
	return ConfigurationDraft{Name: w.Name, Description: w.Description, VerifyTLS: w.VerifyTLS, Settings: settings, Selectors: sels, Templates: decodeTemplates(w.Templates)}, nil
}

// EncodeConfigurationFact encodes one of the configuration facts.
func EncodeConfigurationFact(fact any) (Fact, error) {
	w := configurationFactV1{V: factVersion}
	var typ string
	switch f := fact.(type) {
	case ConfigurationCreated:
		typ, w.ID, w.Account, w.Kind, w.Draft, w.At = ConfigurationCreatedType, f.ID, f.Account, f.Kind, encodeDraft(f.Draft), FormatTimestamp(f.At)
	case ConfigurationUpdated:
		typ, w.Draft, w.At = ConfigurationUpdatedType, encodeDraft(f.Draft), FormatTimestamp(f.At)
	case SelectorsChanged:
		sels := encodeSelectors(f.Selectors)
		typ, w.Selectors, w.At = SelectorsChangedType, &sels, FormatTimestamp(f.At)
	case ConfigurationDeleted:
		typ, w.At = ConfigurationDeletedType, FormatTimestamp(f.At)
	default:
		return Fact{}, fmt.Errorf("encode configuration fact: unknown fact %T", fact)
	}
	data, err := json.Marshal(w)
	if err != nil {
		return Fact{}, fmt.Errorf("encode %s: %w", typ, err)
	}
	return Fact{Type: typ, Data: data}, nil
}

// DecodeConfigurationFact decodes a configuration fact; kind is the configuration's kind, known
// from its ConfigurationCreated fact (ignored when decoding that one).
func DecodeConfigurationFact(typ string, data []byte, kind EndpointKind) (any, error) {
	var w configurationFactV1
	if err := json.Unmarshal(data, &w); err != nil {
		return nil, fmt.Errorf("decode %s: %w", typ, err)
	}
	if w.V != factVersion {
		return nil, fmt.Errorf("decode %s v%d: %w", typ, w.V, ErrUnknownFactVersion)
	}
	at, _ := ParseTimestamp(w.At)
	switch typ {
	case ConfigurationCreatedType:
		d, err := decodeDraft(w.Kind, w.Draft)
		if err != nil {
			return nil, fmt.Errorf("decode %s: %w", typ, err)
		}
		return ConfigurationCreated{ID: w.ID, Account: w.Account, Kind: w.Kind, Draft: d, At: at}, nil
	case ConfigurationUpdatedType:
		d, err := decodeDraft(kind, w.Draft)
		if err != nil {
			return nil, fmt.Errorf("decode %s: %w", typ, err)
		}
		return ConfigurationUpdated{Draft: d, At: at}, nil
	case SelectorsChangedType:
		if w.Selectors == nil {
			return nil, fmt.Errorf("decode %s: no selectors", typ)
		}
		sels, err := decodeSelectors(*w.Selectors)
		if err != nil {
			return nil, fmt.Errorf("decode %s: %w", typ, err)
		}
		return SelectorsChanged{Selectors: sels, At: at}, nil
	case ConfigurationDeletedType:
		return ConfigurationDeleted{At: at}, nil
	}
	return nil, fmt.Errorf("decode configuration fact: unknown type %s", typ)
}
