package redis

import (
	"encoding/json"
	"fmt"

	"herald/domain"
)

// storedConfigurationV1 is a configuration as the view stores it: versioned JSON, with the
// settings as facts hold them (domain.EncodeSettings: secrets in their sealed form) and the
// selectors as their four fields, rebuilt and compiled when read.
type storedConfigurationV1 struct {
	V           int                 `json:"v"`
	ID          string              `json:"id"`
	Account     string              `json:"account"`
	Kind        domain.EndpointKind `json:"kind"`
	Name        string              `json:"name"`
	Description string              `json:"description,omitempty"`
	VerifyTLS   bool                `json:"verify_tls"`
	Settings    json.RawMessage     `json:"settings,omitempty"`
	Selectors   []storedSelectorV1  `json:"selectors"`
	Title       string              `json:"title_template,omitempty"`
	Body        string              `json:"body_template,omitempty"`
	CreatedAt   string              `json:"created_at,omitempty"`
	UpdatedAt   string              `json:"updated_at,omitempty"`
	Revision    uint64              `json:"revision"`
	Deleted     bool                `json:"deleted,omitempty"`
}

type storedSelectorV1 struct {
	Scope        domain.Scope `json:"scope"`
	Level        string       `json:"level"`
	Type         string       `json:"type"`
	ResourceType string       `json:"resource_type"`
}

// encodeConfiguration writes c as stored.
func encodeConfiguration(c *domain.Configuration) ([]byte, error) {
	w := storedConfigurationV1{
		V: storedVersion, ID: c.ID, Account: c.Account, Kind: c.Kind, Name: c.Name, Description: c.Description,
		VerifyTLS: c.VerifyTLS, Selectors: make([]storedSelectorV1, len(c.Selectors)),
		CreatedAt: formatTime(c.CreatedAt), UpdatedAt: formatTime(c.UpdatedAt), Revision: c.Revision, Deleted: c.Deleted,
		Title: c.Templates.Title, Body: c.Templates.Body,
	}
	if c.Settings != nil {
		if c.Settings.Kind() != c.Kind {
			return nil, fmt.Errorf("encode configuration %s: %s settings on a %s configuration", c.ID, c.Settings.Kind(), c.Kind)
		}
		if w.Settings = domain.EncodeSettings(c.Settings); w.Settings == nil {
			return nil, fmt.Errorf("encode configuration %s: cannot encode settings %T", c.ID, c.Settings)
		}
	}
	for i, s := range c.Selectors {
		w.Selectors[i] = storedSelectorV1{Scope: s.Scope, Level: s.Level, Type: s.Type, ResourceType: s.ResourceType}
	}
	data, err := json.Marshal(w)
	if err != nil {
		return nil, fmt.Errorf("encode configuration %s: %w", c.ID, err)
	}
	return data, nil
}

// decodeConfiguration reads what encodeConfiguration wrote. Selectors are rebuilt as the
// admin account's (global scope allowed): they were checked when their facts were recorded.
func decodeConfiguration(data []byte) (domain.Configuration, error) {
	var w storedConfigurationV1
	if err := json.Unmarshal(data, &w); err != nil {
		return domain.Configuration{}, fmt.Errorf("decode configuration: %w", err)
	}
	if w.V != storedVersion {
		return domain.Configuration{}, fmt.Errorf("decode configuration %s v%d: %w", w.ID, w.V, errUnknownVersion)
	}
	c := domain.Configuration{
		ID: w.ID, Account: w.Account, Kind: w.Kind, Name: w.Name, Description: w.Description,
		VerifyTLS: w.VerifyTLS, Revision: w.Revision, Deleted: w.Deleted,
		Templates: domain.MessageTemplates{Title: w.Title, Body: w.Body},
	}
	var err error
	if c.CreatedAt, err = parseTime(w.CreatedAt); err != nil {
		return domain.Configuration{}, fmt.Errorf("decode configuration %s: %w", w.ID, err)
	}
	if c.UpdatedAt, err = parseTime(w.UpdatedAt); err != nil {
		return domain.Configuration{}, fmt.Errorf("decode configuration %s: %w", w.ID, err)
	}
	if len(w.Settings) > 0 {
		if c.Settings, err = domain.DecodeSettings(w.Kind, w.Settings); err != nil {
			return domain.Configuration{}, fmt.Errorf("decode configuration %s: %w", w.ID, err)
		}
	}
	if len(w.Selectors) > 0 {
		c.Selectors = make([]domain.Selector, len(w.Selectors))
	}
	for i, s := range w.Selectors {
		if c.Selectors[i], err = domain.NewSelector(s.Scope, s.Level, s.Type, s.ResourceType, true); err != nil {
			return domain.Configuration{}, fmt.Errorf("decode configuration %s: selector %d: %w", w.ID, i, err)
		}
	}
	return c, nil
}
