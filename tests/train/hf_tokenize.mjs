// hf_tokenize.mjs NPM_DIR TOKENIZER_DIR FILE... — encodes each file's text (UTF-8) with npm's
// @huggingface/tokenizers (a pure JS implementation of Hugging Face tokenizers) from the folder's
// tokenizer.json + tokenizer_config.json, and prints one line of space-separated ids per file, as
// `actlab tokenize` prints them. Exits 1 if decoding the ids does not give the text back.
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";
import { join } from "node:path";

const [npmDir, tokDir, ...files] = process.argv.slice(2);
// Resolved from the npm prefix, not from this script's folder, as `npm install --prefix` lays it out.
const { Tokenizer } = createRequire(join(npmDir, "node_modules", "x.js"))("@huggingface/tokenizers");
const json = (name) => JSON.parse(readFileSync(join(tokDir, name), "utf8"));
const tok = new Tokenizer(json("tokenizer.json"), json("tokenizer_config.json"));
for (const file of files) {
    const text = readFileSync(file, "utf8");
    const ids = tok.encode(text, { add_special_tokens: false }).ids;
    if (ids.length && tok.decode(ids) !== text) {
        console.error(`hf_tokenize: decoding ${file} does not give its text back`);
        process.exit(1);
    }
    console.log(ids.join(" "));
}
