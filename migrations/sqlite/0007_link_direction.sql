-- Cross-links read in a direction: from_id "is <label> of" the other client
-- ("Acme Corp" is "Subsidiary of" "Acme Holdings"), and the other side shows
-- inverse_label ("Parent of"). Links made before this have no direction
-- (from_id NULL) and show their label on both sides, as they did.
ALTER TABLE client_links ADD COLUMN from_id INTEGER;
ALTER TABLE client_links ADD COLUMN inverse_label TEXT;
