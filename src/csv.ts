// CSV as RFC 4180 defines it and spreadsheets and pandas write it: fields in double quotes may
// hold commas, quotes (doubled) and line breaks; records end with CRLF, LF or a lone CR; a
// byte-order mark at the start is not data. Our own small reader, so that the core keeps no
// dependencies; test/csv.test.ts checks it against csv-parse on generated files.

/** One record: its fields, and the line of the text it starts on (from 1). */
export interface CsvRecord {
  fields: string[];
  line: number;
}

/**
 * The records of a CSV text, one at a time, so that refusing a long file stops early. Unquoted
 * fields are trimmed of spaces and tabs; quoted ones are kept as written between their quotes.
 * Blank lines are skipped. A quote left open is an error that names the line it opens on.
 */
export function* csvRecords(text: string, source = "csv"): Generator<CsvRecord> {
  let position = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  let line = 1;
  const length = text.length;
  while (position < length) {
    const start = line;
    const fields: string[] = [];
    let blank = true;
    for (;;) {
      // One field, from `position` up to a comma, a line break or the end.
      let cursor = position;
      while (cursor < length && (text[cursor] === " " || text[cursor] === "\t")) cursor++;
      let field: string;
      if (text[cursor] === '"') {
        const opened = line;
        let value = "";
        cursor++;
        for (;;) {
          const quote = text.indexOf('"', cursor);
          if (quote === -1) {
            throw new SyntaxError(
              `${source}:${opened}: a quoted field is never closed (a " opens it and none ends it)`,
            );
          }
          const chunk = text.slice(cursor, quote);
          line += countLineBreaks(chunk);
          value += chunk;
          if (text[quote + 1] === '"') {
            value += '"';
            cursor = quote + 2;
            continue;
          }
          cursor = quote + 1;
          break;
        }
        while (cursor < length && (text[cursor] === " " || text[cursor] === "\t")) cursor++;
        if (cursor < length && !isFieldEnd(text, cursor)) {
          throw new SyntaxError(
            `${source}:${line}: text after a quoted field's closing quote; a quote inside quotes is written twice ("")`,
          );
        }
        field = value;
        blank = false;
      } else {
        let end = cursor;
        while (end < length && !isFieldEnd(text, end)) end++;
        field = text.slice(cursor, end).trimEnd();
        if (field !== "" || fields.length > 0 || text[end] === ",") blank = false;
        cursor = end;
      }
      fields.push(field);
      position = cursor;
      if (text[position] === ",") {
        position++;
        continue;
      }
      // A line break (CRLF, LF or CR) or the end of the text ends the record.
      if (text[position] === "\r") position += text[position + 1] === "\n" ? 2 : 1;
      else if (text[position] === "\n") position++;
      line++;
      break;
    }
    if (!blank) yield { fields, line: start };
  }
}

function isFieldEnd(text: string, i: number): boolean {
  const c = text[i];
  return c === "," || c === "\n" || c === "\r";
}

/** Line breaks in a stretch of text, counting CRLF once. */
function countLineBreaks(text: string): number {
  let breaks = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === "\n") breaks++;
    else if (c === "\r") {
      breaks++;
      if (text[i + 1] === "\n") i++;
    }
  }
  return breaks;
}
