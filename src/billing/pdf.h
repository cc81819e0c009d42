#pragma once

#include <string>

#include "billing/model.h"

// B4: an invoice as an A4 PDF (cairo + pango: real text shaping, the font embedded
// as a subset, so £ and accented names print as typed). Issued invoices are the
// UK VAT invoice of B3; a draft says DRAFT and a void one VOID across the top.
// Long invoices break onto more pages, the table's header repeated. Thread-safe.
namespace opsmerge::billing {

std::string RenderInvoicePdf(const Invoice& invoice);

// The file name a download offers: "INV-000123.pdf", or "draft-42.pdf".
std::string InvoiceFileName(const Invoice& invoice);

}  // namespace opsmerge::billing
