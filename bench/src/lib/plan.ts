/**
 * Which client is in which room. Client i joins k consecutive rooms starting at room i (mod R),
 * with k chosen so every room gets at least `minMembers`; every fourth client joins one more, so
 * clients differ in how many rooms they follow.
 */
export function planMemberships(clients: number, rooms: number, { minRoomsPerClient = 2, minMembers = 10 } = {}): number[][] {
  if (rooms < minRoomsPerClient) throw new Error(`need at least ${minRoomsPerClient} rooms, got ${rooms}`);
  const k = Math.min(rooms, Math.max(minRoomsPerClient, Math.ceil((minMembers * rooms) / clients)));
  const plan: number[][] = [];
  for (let i = 0; i < clients; i++) {
    const count = i % 4 === 0 ? Math.min(rooms, k + 1) : k;
    plan.push(Array.from({ length: count }, (_, j) => (i + j) % rooms));
  }
  const members = new Array<number>(rooms).fill(0);
  for (const list of plan) for (const r of list) members[r]!++;
  const thin = members.findIndex((n) => n < minMembers);
  if (thin !== -1) throw new Error(`room ${thin} would have ${members[thin]} members (< ${minMembers}); use more clients or fewer rooms`);
  return plan;
}
