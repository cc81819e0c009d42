#pragma once

#include <nlohmann/json_fwd.hpp>

#include "billing/service.h"
#include "platform/http/router.h"
#include "platform/templates.h"

// The billing feature's HTTP handlers: the JSON API and the pages (a client's
// Contracts and Invoices tabs, the Invoices list, an invoice's page) call the same
// BillingService methods.
namespace opsmerge::billing {

void RegisterApi(http::Router& router, BillingService& service);
void RegisterPages(http::Router& router, BillingService& service, clients::ClientService& clients,
                   const Templates& templates);

// The API's form of an invoice {"id","client_id","month","status","number",
// "issue_date","currency","lines":[...],"net_pence","vat_pence","gross_pence"} and
// more (see docs/api.md).
nlohmann::json InvoiceToJson(const Invoice& i, bool with_lines = true);

}  // namespace opsmerge::billing
