/**
 * Finding optional packages (binary packages, the symbolizer) without a runtime's resolver where
 * that resolver could install them: Bun installs a bare specifier it cannot find from the network
 * (auto-install: when no `node_modules` folder is above the working directory, or always with
 * `--install=fallback|force` or `install.auto` in bunfig.toml), so an uninstalled kernel variant
 * package would cost a registry request each, or minutes offline. The loader looks on disk the way
 * Node resolves: `<dir>/node_modules/<pkg>` for the package's folder and every folder above it.
 */
import { existsSync, realpathSync } from 'node:fs'
import { basename, dirname, join } from 'node:path'

/** `<dir>/node_modules/<pkg>/<file>` for `from` and each folder above it (Node's lookup order), if a file is there. */
export function findInNodeModules(from: string, pkg: string, file: string): string | undefined {
  let dir: string
  try {
    dir = realpathSync(from)
  } catch {
    dir = from
  }
  for (;;) {
    if (basename(dir) !== 'node_modules') {
      const candidate = join(dir, 'node_modules', pkg, file)
      if (existsSync(candidate)) return candidate
    }
    const up = dirname(dir)
    if (up === dir) return undefined
    dir = up
  }
}

/**
 * Why the runtime's resolver must not be asked for a package that is not on disk, or undefined
 * when it may be (Node, Deno, Electron: their resolvers never install). Under Bun it is never
 * asked: Bun supports node_modules layouts only, which `findInNodeModules` covers.
 */
export function resolverMayInstall(): string | undefined {
  const versions = process.versions as NodeJS.ProcessVersions & { bun?: string }
  if (!versions.bun) return undefined
  return "not asked of Bun's resolver, which may install a missing package from the network (auto-install)"
}
