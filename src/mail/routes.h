#pragma once

#include "mail/gateway.h"
#include "platform/http/router.h"

// The email gateway's HTTP handlers: the original message behind a ticket entry.
namespace opsmerge::mail {

// GET /tickets/{id}/entries/{entry}/original: the message as it arrived (.eml),
// to save, never shown in the page.
void RegisterPages(http::Router& router, Gateway& gateway);

}  // namespace opsmerge::mail
