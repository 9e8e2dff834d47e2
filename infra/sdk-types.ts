/**
 * `/sdk/chat.d.ts`: one self-contained declaration file for the browser SDK, generated from its sources
 * with the TypeScript compiler API, so a host app gets the SDK's types without zod or any other package.
 *
 * 1. Declarations of every module under the SDK directory are emitted in memory.
 * 2. They are flattened into one module: imports between SDK modules are dropped (everything lies in one
 *    file), re-exports of SDK names are dropped (the declarations carry their own `export`).
 * 3. Whatever comes from outside the SDK (the zod schemas' `z.infer` types in shared/) is expanded by the
 *    type checker into plain structural types (`typeToString` without truncation).
 * 4. The result is compiled alone (no node_modules, no @types): any error fails the generation, so a
 *    leftover reference to zod or to a shared/ module can never ship.
 *
 * It takes seconds (a full type-check of the SDK and the schemas): the local cloud generates it on the
 * first request, the deploy build once at synth.
 */
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

/** This repository's @types, whatever the working directory. */
const TYPE_ROOTS = [fileURLToPath(new URL('../node_modules/@types', import.meta.url))];

const COMPILER_OPTIONS: ts.CompilerOptions = {
  target: ts.ScriptTarget.ES2022,
  module: ts.ModuleKind.NodeNext,
  moduleResolution: ts.ModuleResolutionKind.NodeNext,
  lib: ['lib.es2023.d.ts', 'lib.dom.d.ts'],
  strict: true,
  skipLibCheck: true,
  allowImportingTsExtensions: true,
  declaration: true,
  emitDeclarationOnly: true,
  stripInternal: true,
  types: ['node'],
  typeRoots: TYPE_ROOTS,
};

const FORMAT =
  ts.TypeFormatFlags.NoTruncation |
  ts.TypeFormatFlags.InTypeAlias |
  ts.TypeFormatFlags.UseSingleQuotesForStringLiteralType;
const printer = ts.createPrinter({ removeComments: false });

/** typeToString's one line, laid out over several by the printer. */
const layout = (type: string): string => {
  const file = ts.createSourceFile('type.ts', `type T = ${type};`, ts.ScriptTarget.Latest, true);
  const statement = file.statements[0];
  if (!statement || !ts.isTypeAliasDeclaration(statement)) return type;
  return printer.printNode(ts.EmitHint.Unspecified, statement.type, file);
};

/** zod's named types that cannot be expanded inline (recursive), and their standalone declarations. */
const NAMED_REPLACEMENTS: readonly { pattern: RegExp; name: string; declaration: string }[] = [
  {
    // `import("…", { with: { "resolution-mode": "import" } }).JSONType` when reached across module kinds.
    pattern:
      /(?:import\("[^"]*"(?:,\s*\{\s*with:\s*\{[^}]*\}\s*\})?\)\.)?(?:z\.)?(?:core\.)?(?:util\.)?JSONType\b/g,
    name: 'JsonValue',
    declaration:
      'export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };',
  },
];

export class SdkTypesError extends Error {
  constructor(
    message: string,
    /** The declaration file as far as it was generated. */
    readonly output: string,
  ) {
    super(message);
  }
}

export interface SdkTypesOptions {
  /** The SDK's entry module, e.g. web/sdk/index.ts. */
  readonly entry: string;
  /** Modules under this directory are the SDK's own (default: the entry's directory). */
  readonly sdkDir?: string;
  /** A header comment for the output. */
  readonly banner?: string;
}

const isInside = (dir: string, file: string): boolean => {
  const rel = relative(dir, file);
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel);
};

/** Generates the SDK's single declaration file; throws SdkTypesError when it cannot be self-contained. */
export const generateSdkTypes = (options: SdkTypesOptions): string => {
  const entry = resolve(options.entry);
  const sdkDir = resolve(options.sdkDir ?? dirname(entry));
  const host = ts.createCompilerHost(COMPILER_OPTIONS, true);
  const program = ts.createProgram({ rootNames: [entry], options: COMPILER_OPTIONS, host });
  const checker = program.getTypeChecker();
  const sdkFiles = program
    .getSourceFiles()
    .filter((file) => !file.isDeclarationFile && isInside(sdkDir, resolve(file.fileName)));
  const problems: string[] = [];
  // What the bundle really exports: everything else stays a local declaration of the file.
  const entryFile = program.getSourceFile(entry);
  const entrySymbol = entryFile && checker.getSymbolAtLocation(entryFile);
  const publicNames = new Set(
    entrySymbol ? checker.getExportsOfModule(entrySymbol).map((symbol) => symbol.name) : [],
  );
  // An import that does not resolve would silently become `any` (code 2307: cannot find module).
  for (const file of sdkFiles)
    for (const diagnostic of program.getSemanticDiagnostics(file))
      if (diagnostic.code === 2307)
        problems.push(
          `${relative(sdkDir, file.fileName)}: ${ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n')}`,
        );

  // Declarations of the SDK's own modules, in memory.
  const emitted = new Map<string, string>();
  for (const file of sdkFiles) {
    const result = program.emit(
      file,
      (name, text) => {
        if (name.endsWith('.d.ts')) emitted.set(resolve(file.fileName), text);
      },
      undefined,
      true,
    );
    for (const diagnostic of result.diagnostics)
      problems.push(ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n'));
  }

  const resolveModule = (from: string, specifier: string): string | undefined =>
    ts.resolveModuleName(specifier, from, COMPILER_OPTIONS, host).resolvedModule?.resolvedFileName;
  const isSdkModule = (from: string, specifier: string): boolean => {
    const target = resolveModule(from, specifier);
    return target !== undefined && isInside(sdkDir, resolve(target)) && !target.endsWith('.d.ts');
  };

  /** The plain structural text of a non-generic type alias or interface declared outside the SDK. */
  const expand = (symbol: ts.Symbol, where: ts.Node, name: string): string | undefined => {
    const target = symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol;
    if (!(target.flags & (ts.SymbolFlags.TypeAlias | ts.SymbolFlags.Interface))) {
      problems.push(`'${name}' comes from outside the SDK and is not a type: import types only`);
      return undefined;
    }
    const declaration = target.declarations?.[0];
    if (
      declaration &&
      (ts.isTypeAliasDeclaration(declaration) || ts.isInterfaceDeclaration(declaration)) &&
      declaration.typeParameters?.length
    ) {
      problems.push(`'${name}' is a generic type from outside the SDK: declare it in the SDK instead`);
      return undefined;
    }
    return layout(checker.typeToString(checker.getDeclaredTypeOfSymbol(target), where, FORMAT));
  };

  const body: string[] = [];
  /** Types from outside the SDK by the name the SDK uses: one declaration each, exported if re-exported. */
  const externalTypes = new Map<string, { symbol: ts.Symbol; text: string; exported: boolean }>();
  const reexports: string[] = [];
  const addExternal = (name: string, symbol: ts.Symbol, where: ts.Node, exported: boolean): void => {
    const target = symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol;
    const known = externalTypes.get(name);
    if (known) {
      if (known.symbol !== target) problems.push(`'${name}' names two different types from outside the SDK`);
      known.exported ||= exported;
      return;
    }
    const text = expand(symbol, where, name);
    if (text !== undefined)
      externalTypes.set(name, { symbol: target, text, exported: exported && publicNames.has(name) });
  };

  for (const file of sdkFiles) {
    const fileName = resolve(file.fileName);
    const text = emitted.get(fileName);
    if (text === undefined) continue;
    const dts = ts.createSourceFile(`${fileName}.d.ts`, text, ts.ScriptTarget.Latest, true);
    // Names this module imports from outside the SDK, mapped to their symbols in the original program.
    const external = new Map<string, { symbol: ts.Symbol; where: ts.Node }>();
    for (const statement of file.statements) {
      if (!ts.isImportDeclaration(statement) || !ts.isStringLiteral(statement.moduleSpecifier)) continue;
      if (isSdkModule(fileName, statement.moduleSpecifier.text)) continue;
      const bindings = statement.importClause?.namedBindings;
      const names: ts.Identifier[] = [];
      if (statement.importClause?.name) names.push(statement.importClause.name);
      if (bindings && ts.isNamespaceImport(bindings)) names.push(bindings.name);
      if (bindings && ts.isNamedImports(bindings))
        for (const element of bindings.elements) names.push(element.name);
      for (const name of names) {
        const symbol = checker.getSymbolAtLocation(name);
        if (symbol) external.set(name.text, { symbol, where: statement });
      }
    }
    const original = new Map<string, ts.Node>();
    for (const statement of file.statements)
      if (ts.isTypeAliasDeclaration(statement)) original.set(statement.name.text, statement);

    const mentions = (node: ts.Node): Set<string> => {
      const found = new Set<string>();
      const visit = (child: ts.Node): void => {
        if (ts.isIdentifier(child) && external.has(child.text)) found.add(child.text);
        ts.forEachChild(child, visit);
      };
      visit(node);
      return found;
    };
    /** A declaration as emitted, with its doc comment; `export` only when the entry exports its name. */
    const printed = (node: ts.Statement): string => {
      const docs = text.slice(node.getFullStart(), node.getStart(dts)).trim();
      let code = text.slice(node.getStart(dts), node.end);
      const name = declaredName(node);
      if (name !== undefined && !publicNames.has(name)) code = code.replace(/^export\s+/, '');
      return docs ? `${docs}\n${code}` : code;
    };

    for (const statement of dts.statements) {
      if (ts.isImportDeclaration(statement)) {
        const specifier = (statement.moduleSpecifier as ts.StringLiteral).text;
        const bindings = statement.importClause?.namedBindings;
        if (isSdkModule(fileName, specifier)) {
          const renamed =
            (bindings && ts.isNamespaceImport(bindings)) ||
            (bindings &&
              ts.isNamedImports(bindings) &&
              bindings.elements.some((element) => element.propertyName !== undefined));
          if (renamed || statement.importClause?.name)
            problems.push(`${relative(sdkDir, fileName)}: import SDK modules by name, without renaming`);
        }
        continue;
      }
      if (ts.isExportDeclaration(statement)) {
        const specifier = statement.moduleSpecifier;
        const clause = statement.exportClause;
        if (specifier && ts.isStringLiteral(specifier) && !isSdkModule(fileName, specifier.text)) {
          // `export type { Message } from '../../shared/…'`: expanded into the file.
          if (!clause || !ts.isNamedExports(clause)) {
            problems.push(`${relative(sdkDir, fileName)}: export * from outside the SDK`);
            continue;
          }
          const source = file.statements.find(
            (node): node is ts.ExportDeclaration =>
              ts.isExportDeclaration(node) &&
              node.moduleSpecifier !== undefined &&
              ts.isStringLiteral(node.moduleSpecifier) &&
              node.moduleSpecifier.text === specifier.text,
          );
          for (const element of clause.elements) {
            const sourceElement =
              source?.exportClause && ts.isNamedExports(source.exportClause)
                ? source.exportClause.elements.find((candidate) => candidate.name.text === element.name.text)
                : undefined;
            const symbol = sourceElement && checker.getSymbolAtLocation(sourceElement.name);
            if (symbol && sourceElement) addExternal(element.name.text, symbol, sourceElement, true);
            else problems.push(`${relative(sdkDir, fileName)}: cannot resolve '${element.name.text}'`);
          }
          continue;
        }
        if (!clause || !ts.isNamedExports(clause)) continue; // export * from an SDK module
        for (const element of clause.elements) {
          const local = (element.propertyName ?? element.name).text;
          const exported = element.name.text;
          const outside = external.get(local);
          if (outside) {
            // `import type { Message } from '../../shared/…'; export type { Message }`
            addExternal(exported, outside.symbol, outside.where, true);
          } else if (local !== exported && publicNames.has(exported)) {
            reexports.push(`export { ${local} as ${exported} };`);
          }
        }
        continue;
      }
      if (ts.isExportAssignment(statement)) {
        problems.push(`${relative(sdkDir, fileName)}: default exports are not supported`);
        continue;
      }
      const used = mentions(statement);
      if (ts.isTypeAliasDeclaration(statement) && used.size > 0) {
        // `export type Message = z.infer<typeof messageSchema>`: the checker's structural expansion.
        const node = original.get(statement.name.text);
        const symbol =
          node && ts.isTypeAliasDeclaration(node) ? checker.getSymbolAtLocation(node.name) : undefined;
        const expanded = symbol && node && expand(symbol, node, statement.name.text);
        if (expanded !== undefined) {
          const exported = publicNames.has(statement.name.text);
          const docs = text.slice(statement.getFullStart(), statement.getStart(dts)).trim();
          body.push(
            `${docs ? `${docs}\n` : ''}${exported ? 'export ' : ''}type ${statement.name.text} = ${expanded};`,
          );
        }
        continue;
      }
      // Interfaces, classes, functions naming an outside type directly get a local alias of it.
      for (const name of used) {
        const { symbol, where } = external.get(name)!;
        addExternal(name, symbol, where, false);
      }
      body.push(printed(statement));
    }
  }

  const outside = [...externalTypes].map(
    ([name, { text, exported }]) => `${exported ? 'export ' : ''}type ${name} = ${text};`,
  );
  let output = [...outside, ...body, ...reexports].join('\n\n');
  const extra: string[] = [];
  for (const replacement of NAMED_REPLACEMENTS) {
    if (replacement.pattern.test(output)) {
      output = output.replace(replacement.pattern, replacement.name);
      extra.push(replacement.declaration);
    }
  }
  if (/\bimport\(/.test(output)) problems.push('an inline import() type remains');
  const banner = options.banner ? `${options.banner.trim()}\n` : '';
  const result = `${banner}${[...extra, output].join('\n\n')}\n\nexport {};\n`;
  problems.push(...checkStandalone(result));
  if (problems.length > 0)
    throw new SdkTypesError(
      `cannot generate the SDK's declaration file:\n  ${[...new Set(problems)].join('\n  ')}`,
      result,
    );
  return result;
};

/** The name a top-level declaration declares (the first one of a variable statement). */
const declaredName = (statement: ts.Statement): string | undefined => {
  if (ts.isVariableStatement(statement)) {
    const first = statement.declarationList.declarations[0];
    return first && ts.isIdentifier(first.name) ? first.name.text : undefined;
  }
  const named = statement as ts.Statement & { name?: ts.Node };
  return named.name && ts.isIdentifier(named.name) ? named.name.text : undefined;
};

/** Diagnostics of a declaration file compiled alone: only the standard libraries, no packages. */
export const checkStandalone = (declarations: string, consumer?: string): string[] => {
  const dir = '/__sdk__';
  const files = new Map<string, string>([[join(dir, 'chat.d.ts'), declarations]]);
  if (consumer !== undefined) files.set(join(dir, 'consumer.ts'), consumer);
  const options: ts.CompilerOptions = {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.ES2022,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    lib: ['lib.es2022.d.ts', 'lib.dom.d.ts'],
    strict: true,
    noEmit: true,
    types: [],
    noUncheckedIndexedAccess: true,
    exactOptionalPropertyTypes: true,
  };
  const base = ts.createCompilerHost(options, true);
  const host: ts.CompilerHost = {
    ...base,
    fileExists: (name) => files.has(name) || (name.includes('/typescript/lib/') && base.fileExists(name)),
    readFile: (name) =>
      files.get(name) ?? (name.includes('/typescript/lib/') ? base.readFile(name) : undefined),
    getSourceFile: (name, version) => {
      const text = files.get(name);
      if (text !== undefined) return ts.createSourceFile(name, text, version, true);
      return name.includes('/typescript/lib/') ? base.getSourceFile(name, version) : undefined;
    },
    directoryExists: (name) => name === dir || name.includes('/typescript/lib'),
    getDirectories: () => [],
  };
  const program = ts.createProgram({ rootNames: [...files.keys()], options, host });
  return ts.getPreEmitDiagnostics(program).map((diagnostic) => {
    const where =
      diagnostic.file && diagnostic.start !== undefined
        ? `${diagnostic.file.fileName.replace(`${dir}/`, '')}:${diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start).line + 1}: `
        : '';
    return `${where}${ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n')}`;
  });
};
