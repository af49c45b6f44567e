/**
 * Reseller isolation in one place: a Kysely plugin that rewrites every SELECT, UPDATE and DELETE touching a
 * reseller-owned table so that it only reaches the principal's reseller's rows. Route handlers get a database
 * handle with this plugin already applied (`c.var.db`), so a route cannot forget the filter.
 * Plugins declare their own reseller-owned tables (`ctx.resellerOwned(...)`). Raw `sql` is not rewritten: it is
 * the explicit escape hatch and must filter by hand.
 */
import {
  AndNode,
  type AliasNode,
  type DeleteQueryNode,
  type IdentifierNode,
  type InsertQueryNode,
  type ColumnNode,
  type ValueNode,
  type JoinNode,
  type KyselyPlugin,
  OnNode,
  OperationNodeTransformer,
  type OperationNode,
  ParensNode,
  type PluginTransformQueryArgs,
  type PluginTransformResultArgs,
  type QueryResult,
  type RootOperationNode,
  type SelectQueryNode,
  type TableNode,
  type UnknownRow,
  type UpdateQueryNode,
  WhereNode,
  sql,
} from 'kysely';
import { RgzError } from '../errors/rgz-error.js';

/** How a table is tied to a reseller. */
export type OwnershipRule =
  /** The table has a reseller id column (default `reseller_id`). */
  | { table: string; column?: string }
  /** The table points at a subscriber; the subscriber's reseller owns the row. */
  | { table: string; viaSubscriber: string };

export class OwnershipRegistry {
  private readonly rules = new Map<string, OwnershipRule>();

  constructor() {
    this.add({ table: 'resellers', column: 'id' });
    this.add({ table: 'subscribers' });
    this.add({ table: 'subscriber_devices', viaSubscriber: 'subscriber_id' });
    this.add({ table: 'plans' });
    this.add({ table: 'audit_log' });
    this.add({ table: 'subscriptions' });
  }

  add(rule: OwnershipRule): void {
    this.rules.set(rule.table, rule);
  }

  get(table: string): OwnershipRule | undefined {
    return this.rules.get(table);
  }

  tables(): string[] {
    return [...this.rules.keys()];
  }
}

export interface ScopeOptions {
  /**
   * Reseller tables that hold shared rows with a NULL reseller (the default plan catalogue): readable by
   * every reseller, never writable by one.
   */
  sharedWhenNull?: string[];
}

export class ResellerScopePlugin implements KyselyPlugin {
  private readonly transformer: ScopeTransformer;

  constructor(registry: OwnershipRegistry, resellerId: string, options: ScopeOptions = {}) {
    this.transformer = new ScopeTransformer(registry, resellerId, new Set(options.sharedWhenNull ?? ['plans']));
  }

  transformQuery(args: PluginTransformQueryArgs): RootOperationNode {
    return this.transformer.transformNode(args.node);
  }

  async transformResult(args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
    return args.result;
  }
}

class ScopeTransformer extends OperationNodeTransformer {
  private readOnly = false;

  constructor(
    private readonly registry: OwnershipRegistry,
    private readonly resellerId: string,
    private readonly sharedWhenNull: Set<string>,
  ) {
    super();
  }

  protected override transformSelectQuery(node: SelectQueryNode): SelectQueryNode {
    const t = super.transformSelectQuery(node);
    const prev = this.readOnly;
    this.readOnly = true;
    try {
      let where = t.where;
      for (const from of t.from?.froms ?? []) where = this.addFilter(where, from);
      const joins = t.joins?.map((j) => this.scopeJoin(j));
      return { ...t, ...(where ? { where } : {}), ...(joins ? { joins } : {}) };
    } finally {
      this.readOnly = prev;
    }
  }

  protected override transformUpdateQuery(node: UpdateQueryNode): UpdateQueryNode {
    const t = super.transformUpdateQuery(node);
    const named = t.table ? tableOf(t.table) : undefined;
    const rule = named ? this.registry.get(named.table) : undefined;
    if (rule && !('viaSubscriber' in rule)) {
      const column = rule.column ?? 'reseller_id';
      for (const u of t.updates ?? []) {
        const col = u.column.kind === 'ColumnNode' ? (u.column as ColumnNode).column.name : undefined;
        const value = u.value.kind === 'ValueNode' ? (u.value as ValueNode).value : Symbol('not a value');
        if (col === column && value !== this.resellerId) throw scopeViolation(`a reseller cannot change ${named?.table}.${column}`);
      }
    }
    let where = t.where;
    if (t.table) where = this.addFilter(where, t.table);
    for (const from of t.from?.froms ?? []) where = this.addFilter(where, from);
    return { ...t, ...(where ? { where } : {}) };
  }

  /**
   * Writes are checked, not rewritten: a reseller may only insert rows that name itself as owner, and may never
   * move a row to another owner. Rows of tables owned through a subscriber are checked by their foreign key.
   */
  protected override transformInsertQuery(node: InsertQueryNode): InsertQueryNode {
    const t = super.transformInsertQuery(node);
    const table = t.into?.table.identifier.name;
    const rule = table ? this.registry.get(table) : undefined;
    if (!rule || 'viaSubscriber' in rule) return t;
    const column = rule.column ?? 'reseller_id';
    const index = (t.columns ?? []).findIndex((c: ColumnNode) => c.column.name === column);
    const rows =
      t.values?.kind === 'ValuesNode' ? (t.values as unknown as { values: ReadonlyArray<{ kind: string; values: ReadonlyArray<unknown> }> }).values : [];
    if (index < 0 || rows.length === 0) throw scopeViolation(`insert into ${table} must set ${column} to the reseller's own id`);
    for (const row of rows) {
      const raw = row.values[index];
      const value =
        row.kind === 'PrimitiveValueListNode' ? raw : (raw as ValueNode | undefined)?.kind === 'ValueNode' ? (raw as ValueNode).value : Symbol('not a value');
      if (value !== this.resellerId) throw scopeViolation(`insert into ${table} may only use ${column} = the reseller's own id`);
    }
    return t;
  }

  protected override transformDeleteQuery(node: DeleteQueryNode): DeleteQueryNode {
    const t = super.transformDeleteQuery(node);
    let where = t.where;
    for (const from of t.from.froms) where = this.addFilter(where, from);
    return { ...t, ...(where ? { where } : {}) };
  }

  private scopeJoin(join: JoinNode): JoinNode {
    const filter = this.filterFor(join.table);
    if (!filter) return join;
    return { ...join, on: OnNode.create(join.on ? AndNode.create(ParensNode.create(join.on.on), filter) : filter) };
  }

  private addFilter(where: WhereNode | undefined, from: OperationNode): WhereNode | undefined {
    const filter = this.filterFor(from);
    if (!filter) return where;
    // Parenthesise the query's own condition: a raw `a or b` must not bind looser than the reseller filter.
    return WhereNode.create(where ? AndNode.create(ParensNode.create(where.where), filter) : filter);
  }

  private filterFor(node: OperationNode): OperationNode | undefined {
    const named = tableOf(node);
    if (!named) return undefined;
    const rule = this.registry.get(named.table);
    if (!rule) return undefined;
    const ref = (column: string) => sql.ref(`${named.alias}.${column}`);
    if ('viaSubscriber' in rule) {
      return sql`${ref(rule.viaSubscriber)} in (select s.id from subscribers s where s.reseller_id = ${this.resellerId})`.toOperationNode();
    }
    const column = rule.column ?? 'reseller_id';
    if (this.readOnly && this.sharedWhenNull.has(named.table)) {
      return sql`(${ref(column)} = ${this.resellerId} or ${ref(column)} is null)`.toOperationNode();
    }
    return sql`${ref(column)} = ${this.resellerId}`.toOperationNode();
  }
}

function tableOf(node: OperationNode): { table: string; alias: string } | undefined {
  if (node.kind === 'TableNode') {
    const name = (node as TableNode).table.identifier.name;
    return { table: name, alias: name };
  }
  if (node.kind === 'AliasNode') {
    const a = node as AliasNode;
    if (a.node.kind !== 'TableNode') return undefined;
    return { table: (a.node as TableNode).table.identifier.name, alias: (a.alias as IdentifierNode).name };
  }
  return undefined;
}

function scopeViolation(message: string): RgzError {
  return new RgzError('reseller_scope_violation', message, { status: 403 });
}
