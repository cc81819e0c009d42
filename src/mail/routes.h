#pragma once

#include "mail/gateway.h"
#include "platform/http/router.h"

// The email gateway's HTTP handlers: the original message behind a ticket entry.
namespace opsmerge::mail {

// GET /tickets/{id}/entries/{entry}/original: the message as it arrived (.eml),
// to save, never shown in the page.
void RegisterPages(http::Router& router, Gateway& gateway);

// POST /mail/v1/ingest: one message as the body, from `opsmerge-deliver` (the MTA's
// pipe) on this host: loopback only, with `Authorization: Bearer <key>` (the key
// serve writes to its data directory, compared in constant time). 200 with the
// outcome line ("ticket: new ticket #12 ..."), 422 not a message, 401 / 404
// otherwise; any other failure is a 5xx and the MTA tries again.
void RegisterDelivery(http::Router& router, Gateway& gateway, std::string key_hash);
// The body a delivery may carry: the gateway's cap and a byte (so it notes the cut).
size_t DeliveryBodyLimit();

}  // namespace opsmerge::mail
