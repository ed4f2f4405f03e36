package commands

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"herald/domain"
)

// ErrWrongSecretKey means herald was started with another key than the one the stored
// credentials were sealed with.
var ErrWrongSecretKey = errors.New("wrong secret key")

const (
	secretKeyStream         = domain.HeraldStreamPrefix + "secretkey"
	secretKeyRegisteredType = "SecretKeyRegistered"
)

type secretKeyV1 struct {
	V     int    `json:"v"`
	KeyID string `json:"key_id"`
}

// RegisterSecretKey records, on the first start, which key seals credentials (by its id, a
// digest prefix), and on later starts refuses another key, so that herald fails at once
// instead of sending garbage or locking users out of their configurations.
type RegisterSecretKey struct {
	KeyID string
}

// RegisterSecretKeyHandler handles RegisterSecretKey.
type RegisterSecretKeyHandler struct{ store EventStore }

// NewRegisterSecretKeyHandler builds the handler.
func NewRegisterSecretKeyHandler(store EventStore) (RegisterSecretKeyHandler, error) {
	if store == nil {
		return RegisterSecretKeyHandler{}, fmt.Errorf("new register secret key handler: %w", errNilDependency)
	}
	return RegisterSecretKeyHandler{store: store}, nil
}

// Handle records the key id, or checks it against the recorded one.
func (h RegisterSecretKeyHandler) Handle(ctx context.Context, cmd RegisterSecretKey) error {
	records, err := h.store.ReadStream(ctx, secretKeyStream)
	switch {
	case errors.Is(err, domain.ErrStreamNotFound):
		data, _ := json.Marshal(secretKeyV1{V: 1, KeyID: cmd.KeyID})
		_, err := h.store.Append(ctx, secretKeyStream, domain.NoStream(), domain.Fact{Type: secretKeyRegisteredType, Data: data})
		if errors.Is(err, domain.ErrConcurrency) {
			return h.Handle(ctx, cmd) // another instance registered first: check against it
		}
		return err
	case err != nil:
		return fmt.Errorf("read the registered secret key: %w", err)
	}
	var w secretKeyV1
	if err := json.Unmarshal(records[0].Data, &w); err != nil {
		return fmt.Errorf("read the registered secret key: %w", err)
	}
	if w.KeyID != cmd.KeyID {
		return fmt.Errorf("the configured secret key (id %s) is not the one the stored credentials were sealed with (id %s): start herald with the original HERALD_SECRET_KEY: %w", cmd.KeyID, w.KeyID, ErrWrongSecretKey)
	}
	return nil
}
